"""Vendor what the gated MTRAG suites need into evals/data/mtrag-<domain>/, so `make test` passes in a plain clone.

For each domain (cloud, fiqa), copies the two conversation files of ../shared/benchmarks/mtrag-<domain>/ and writes the gated sub-pool
(`passages-1000.jsonl`: every passage the conversations name, then seeded others) exactly as the suite
builds it from the full pool, byte for byte; the suite reads it when the full pool is not beside the
checkout. Deterministic: run it again after changing the sub-pool rule or seed.

    python evals/vendor_mtrag.py [--domain cloud|fiqa]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.evaluation.mtrag_data import (  # noqa: E402
    DOMAINS,
    GATED_POOL,
    Domain,
    load_turns,
    subpool_lines,
)


def vendor(domain: Domain) -> None:
    conversations, _ = load_turns(domain.full_data)
    domain.vendored_data.mkdir(parents=True, exist_ok=True)
    for name in ("conversations.jsonl", "conversations_un.jsonl"):
        shutil.copyfile(domain.full_data / name, domain.vendored_data / name)
    body = subpool_lines(GATED_POOL, conversations, domain.full_data)
    (domain.vendored_data / f"passages-{GATED_POOL}.jsonl").write_text(body, encoding="utf-8")
    print(f"wrote {domain.vendored_data}: {len(conversations)} conversations, {len(body.splitlines())} passages "
          f"({len(body.encode()) / 1e6:.1f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domain", choices=sorted(DOMAINS), action="append", help="default: every domain")
    for name in parser.parse_args().domain or sorted(DOMAINS):
        vendor(DOMAINS[name])


if __name__ == "__main__":
    main()
