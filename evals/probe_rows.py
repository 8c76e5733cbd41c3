"""Collect the answer scorer's rows for probe questions made from each domain's own collection.

    python evals/probe_rows.py [--domains squad2,cloud,fiqa,corpus] [--probes 60]
    python evals/probe_rows.py --overlap     # content words real fit questions share with their answer

The probe questions are the product's own (`assistant.answer.probe_questions.collection_probes`,
same seed and count as `assistant.collection_calibration`), asked of the collections
`evals/answer_rows.py` builds, through the same pipeline, and written beside its rows as
`<domain>-probe-<shape>.pkl`. `evals/fit_collection_threshold.py` reads them: they carry no gold
label, only the collection's own text.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from answer_rows import DOMAIN_NAMES, OUT, Asked, _engine, _save, collect, load_rows  # noqa: E402

from assistant import load_settings  # noqa: E402
from assistant.answer.probe_questions import (  # noqa: E402
    ProbeShape,
    collection_probes,
    content_tokens,
)
from assistant.collection_calibration import PROBE_SEED  # noqa: E402

PROBES = 60  # probe questions per collection (the product asks as many: calibration.json per_collection.probes)
SHAPES = {"half": ProbeShape(0.5, 3, 6), "quarter": ProbeShape(0.25, 2, 4)}


def _content(text: str) -> set[str]:
    return {w.lower() for w in content_tokens(text)}


def overlap(out: Path) -> None:
    """Content words each answerable fit question shares with its first answering candidate."""
    for domain in ("squad2", "cloud", "fiqa"):
        shared, share = [], []
        for q in load_rows(domain, "fit", out):
            answering = [t for t, label in zip(q.texts, q.labels) if label]
            if q.answerable and answering:
                words = _content(answering[0])
                common = words & _content(q.question)
                shared.append(len(common))
                share.append(len(common) / max(1, len(words)))
        print(f"{domain}: {len(shared)} fit questions share a median of {np.median(shared):.0f} content words "
              f"({np.median(share):.0%} of the sentence's)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", default=",".join(DOMAIN_NAMES))
    parser.add_argument("--probes", type=int, default=PROBES)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--overlap", action="store_true")
    args = parser.parse_args()
    if args.overlap:
        overlap(args.out)
        return
    settings = load_settings()
    for domain in args.domains.split(","):
        todo = [name for name in SHAPES if not (args.out / f"{domain}-probe-{name}.pkl").is_file()]
        if not todo:
            continue
        started = time.perf_counter()
        engine, _ = _engine(domain, settings)
        for name in todo:
            probes = collection_probes(engine.view(), args.probes, seed=PROBE_SEED, shape=SHAPES[name])
            items = [Asked(f"probe/{n}", f"probe/{n}", p.question, (), True, (p.answer,), ()) for n, p in enumerate(probes)]
            _save(args.out / f"{domain}-probe-{name}.pkl", collect(engine, domain, "probe", items))
            print(f"{domain} probe {name}: {len(items)} questions, {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
