"""Collect the scorer's rows for *unanswerable* probe questions: each answerable probe with its key constraint changed.

    python evals/probe_negative_rows.py [--domains squad2,cloud,fiqa,corpus] [--shape quarter]

The answerable probes are `evals/probe_rows.py`'s (the product's own `collection_probes`, same seed).
Each probe that names something its sentence holds (a name, number or year) gets that token swapped for
another of the same kind from the same collection, one the sentence does not hold
(`constraint_negatives.changed_constraint`, as SQuAD 2.0 augmentation does): "Who Stoltenberg ministers
June?" -> "Who Austin ministers June?". The collection should not answer the variant, so the confidence
it gets shows where that collection's unanswerable questions lie, without one labelled question.
Written beside the other rows as `<domain>-probe-<shape>-neg.pkl`; read by
`evals/fit_collection_threshold.py --negatives`.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from answer_rows import DOMAIN_NAMES, OUT, Asked, _engine, _save, collect  # noqa: E402
from constraint_negatives import changed_constraint, replacements  # noqa: E402
from probe_rows import PROBES, SHAPES  # noqa: E402

from assistant import load_settings  # noqa: E402
from assistant.answer.probe_questions import collection_probes  # noqa: E402
from assistant.collection_calibration import PROBE_SEED  # noqa: E402


def collection_sentences(view) -> list[str]:
    index = view.sentences
    return [view.chunks[index.chunk_ids[row]].text[int(index.starts[row]):int(index.ends[row])] for row in range(len(index))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", default=",".join(DOMAIN_NAMES))
    parser.add_argument("--shape", default="quarter", choices=sorted(SHAPES))
    parser.add_argument("--probes", type=int, default=PROBES)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    settings = load_settings()
    for domain in args.domains.split(","):
        path = args.out / f"{domain}-probe-{args.shape}-neg.pkl"
        if path.is_file():
            continue
        started = time.perf_counter()
        engine, _ = _engine(domain, settings)
        view = engine.view()
        pool = replacements(collection_sentences(view))
        rng = random.Random(PROBE_SEED)
        probes = collection_probes(view, args.probes, seed=PROBE_SEED, shape=SHAPES[args.shape])
        items = []
        for n, probe in enumerate(probes):
            variant = changed_constraint(probe.question, probe.sentence, pool, rng)
            if variant is not None:
                items.append(Asked(f"probe-neg/{n}", f"probe-neg/{n}", variant, (), False, (), ()))
        _save(path, collect(engine, domain, "probe-neg", items))
        print(f"{domain} {args.shape}: {len(items)} of {len(probes)} probes changed, {time.perf_counter() - started:.0f} s",
              flush=True)


if __name__ == "__main__":
    main()
