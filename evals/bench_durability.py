"""What a kill -9 half-way through indexing costs: index the SQuAD passages once undisturbed, then
again from scratch killed at about 50% of the chunks, then re-run and time the finish. Prints the
figures and writes them as JSON; asserts nothing.

    python evals/bench_durability.py [--passages PATH] [--out evals/results/durability_bench.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from assistant.config import PROJECT_ROOT
from evals.common import EVALS_DATA, RESULTS

DEFAULT_PASSAGES = EVALS_DATA / "squad-v1.1-dev" / "passages.jsonl"
_BATCH = re.compile(r"committed batch (\d+)/(\d+)")


def index_run(store: Path, passages: Path, collection: str, *, kill_at: float | None = None) -> dict:
    """One `assistant index` subprocess; with kill_at, SIGKILL it once that share of batches is committed."""
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(store)}
    command = [sys.executable, "-m", "assistant", "index", "--corpus", str(passages), "--collection", collection]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)
    assert process.stderr is not None and process.stdout is not None
    killed_after = None
    for line in process.stderr:
        found = _BATCH.search(line)
        if kill_at is not None and found and int(found.group(1)) >= kill_at * int(found.group(2)):
            os.killpg(process.pid, signal.SIGKILL)
            killed_after = f"{found.group(1)}/{found.group(2)} batches"
            break
    out = process.stdout.read()
    process.wait()
    return {"seconds": round(time.perf_counter() - started, 1), "killed_after": killed_after,
            "summary": out.strip().splitlines()[-1] if out.strip() else ""}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=Path, default=DEFAULT_PASSAGES)
    parser.add_argument("--out", type=Path, default=RESULTS / "durability_bench.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp)
        full = index_run(store, args.passages, "bench-full")
        killed = index_run(store, args.passages, "bench-killed", kill_at=0.5)
        resumed = index_run(store, args.passages, "bench-killed")
    figures = {"passages": str(args.passages.relative_to(PROJECT_ROOT) if args.passages.is_relative_to(PROJECT_ROOT) else args.passages),
               "undisturbed_build": full, "killed_at_50_percent": killed, "re_run_after_kill": resumed,
               "re_run_share_of_full_build": round(resumed["seconds"] / full["seconds"], 3)}
    print(json.dumps(figures, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
