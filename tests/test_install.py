"""The quick start's install step: a project virtual environment, never the system Python.

CI's `make test` on a clean checkout is the full check (it makes `.venv` and installs everything
into it); these tests pin down the environment step and its refusals on machines without a
suitable Python."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from assistant.config import PROJECT_ROOT

MAKE = shutil.which("make") or "make"  # the quick start itself runs through make


def _make(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MAKE, "-s", "-C", str(PROJECT_ROOT), *args], env=env or dict(os.environ),
                          check=False, capture_output=True, text=True, timeout=300)


def test_make_creates_the_project_virtual_environment(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    done = _make("venv", f"VENV={venv}")
    assert done.returncode == 0, done.stderr
    probe = subprocess.run([str(venv / "bin" / "python"), "-c", "import sys; print(sys.prefix != sys.base_prefix, sys.version_info[:2])"],
                           check=True, capture_output=True, text=True)
    in_venv, version = probe.stdout.split(" ", 1)
    assert in_venv == "True"
    assert version.strip() in ("(3, 11)", "(3, 12)")


def test_a_python_outside_the_supported_range_is_refused_with_what_to_install(tmp_path: Path) -> None:
    old = tmp_path / "python3.9"
    old.write_text("#!/bin/sh\nexit 1\n")  # answers the version probe like a Python 3.9 would: not in range
    old.chmod(0o755)
    done = _make("venv", f"VENV={tmp_path / 'venv'}", f"PYTHON={old}")
    assert done.returncode != 0
    assert f"{old} is not a Python 3.11 or 3.12; install Python 3.11 or 3.12" in done.stderr
    assert not (tmp_path / "venv").exists()


def test_no_suitable_python_on_path_says_which_to_install(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh", "make", "rm", "find", "touch"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHON", "VIRTUAL_ENV")}
    env["PATH"] = str(bin_dir)
    done = _make("venv", f"VENV={tmp_path / 'venv'}", env=env)
    assert done.returncode != 0
    assert "no Python 3.11 or 3.12 found on PATH; install Python 3.11 or 3.12" in done.stderr
