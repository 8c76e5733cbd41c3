"""Real `assistant serve` processes for tests: started with a clean environment, waited for by
their ready line, stopped with SIGTERM."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import stop_process

from assistant.config import PROJECT_ROOT

STARTUP_CEILING_S = 600  # how long we wait for a cold start on a slow CI machine; not a performance check


def clean_env(store: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(ASSISTANT_INDEX_DIR=str(store), **extra)
    return env


@dataclass
class Process:
    process: subprocess.Popen
    log: Path

    def wait_for(self, marker: str) -> str:
        """The server's output up to its ready line (fails with the output if it exits first)."""
        deadline = time.monotonic() + STARTUP_CEILING_S
        while time.monotonic() < deadline:
            output = self.log.read_text(encoding="utf-8", errors="replace")
            if marker in output:
                return output
            if self.process.poll() is not None:
                pytest.fail(f"the server exited with {self.process.returncode}:\n{output}")
            time.sleep(0.2)
        pytest.fail(f"no {marker!r} from the server:\n{self.log.read_text(encoding='utf-8', errors='replace')}")

    def stop(self) -> None:
        stop_process(self.process)


def launch(args: list[str], env: dict[str, str], log: Path) -> Process:
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen([sys.executable, "-m", "assistant", *args], cwd=PROJECT_ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, text=True, start_new_session=True)
    return Process(process, log)
