"""Vendor what the gated MTRAG suite needs into evals/data/mtrag-cloud/, so `make test` passes in a plain clone.

Copies the two conversation files of ../shared/benchmarks/mtrag-cloud/ and writes the gated sub-pool
(`passages-1000.jsonl`: every passage the conversations name, then seeded others) exactly as the suite
builds it from the full pool, byte for byte; the suite reads it when the full pool is not beside the
checkout. Deterministic: run it again after changing the sub-pool rule or seed.

    python evals/vendor_mtrag.py
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.evaluation.mtrag import FULL_DATA, GATED_POOL, VENDORED_DATA, load_turns, subpool_lines  # noqa: E402


def main() -> None:
    conversations, _ = load_turns(FULL_DATA)
    VENDORED_DATA.mkdir(parents=True, exist_ok=True)
    for name in ("conversations.jsonl", "conversations_un.jsonl"):
        shutil.copyfile(FULL_DATA / name, VENDORED_DATA / name)
    body = subpool_lines(GATED_POOL, conversations, FULL_DATA)
    (VENDORED_DATA / f"passages-{GATED_POOL}.jsonl").write_text(body, encoding="utf-8")
    print(f"wrote {VENDORED_DATA}: {len(conversations)} conversations, {len(body.splitlines())} passages "
          f"({len(body.encode()) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
