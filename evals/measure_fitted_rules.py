"""What each of the last hand-shaped answer and rewrite rules is worth (issue 28 item 7).

    python evals/measure_fitted_rules.py

Each rule is switched off in turn (in this process only) and the report sets are asked again:

- the acronym-expansion part of the sentence score (`extractive.SCORE_WEIGHTS`), kept: it earns its
  place on the corpus gold set.

Report sets: the bundled corpus's two gold sets (report only: nothing may be tuned on them) and a
SQuAD v1.1 report sample. Nothing is tuned here; a rule that shows no gain on any report set is
removed. Figures go to evals/results/fitted_rules.json.

Removed on this measurement (2026-12-06; figures kept in evals/results/fitted_rules.json): the
"latest state" rule (questions with latest/current/now/recent/still/yet/... gave the newest source's
sentences +0.08): with it off, or with only `still`/`yet` dropped, every metric of the corpus gold
set, the independent corpus set and SQuAD@100 was identical; and the follow-up rewrite's elliptical
synonyms ("before"/"earlier"/"last" also searched for "previous", "after"/"following" for "next"): they
changed no MTRAG Cloud report turn and one FiQA turn (recall@5 1.0 either way), and on the corpus two
follow-ups, one a misfire ("expected to *last*"), with every corpus metric identical.

Removed next (2026-12-07): the disagreement note (`conflicts.find_disagreement`: two strong, differently
dated sentences giving different figures for the same counted thing were quoted together, newer first,
with a note, and named to a language model). Switched off, every metric of the three report sets was
identical (results/fitted_rules.json), and on the corpus gold set it fired on none of its 94 questions and turns,
its four "conflict" items included; the generative prompt still shows every source's date and asks for
the newest when sources disagree.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.answer import extractive  # noqa: E402
from assistant.config import PROJECT_ROOT, load_settings  # noqa: E402
from assistant.evaluation.harness import run_suite  # noqa: E402
from assistant.evaluation.suites import SQUAD_SEED, build_suite  # noqa: E402
from evals.common import patched  # noqa: E402

RESULTS = PROJECT_ROOT / "evals" / "results" / "fitted_rules.json"
SUITES = (("corpus", None), (str(PROJECT_ROOT / "evals" / "gold" / "corpus_independent.jsonl"), None), ("squad", 100))
METRICS = ("accuracy", "answer_alias_accuracy", "accuracy_conflict", "followup_accuracy", "wrong_abstention_rate")


def weight_without(part: str) -> tuple[float, ...]:
    return tuple(0.0 if p == part else w for p, w in zip(extractive.SCORE_PARTS, extractive.SCORE_WEIGHTS))


ANSWER_VARIANTS: dict[str, Callable[[], object]] = {
    "shipped": lambda: patched(extractive, "SCORE_WEIGHTS", extractive.SCORE_WEIGHTS),
    "no acronym-expansion part": lambda: patched(extractive, "SCORE_WEIGHTS", weight_without("expansion_offered")),
}


def answer_rules(settings) -> dict:
    found: dict = {}
    for suite_name, sample in SUITES:
        label = Path(suite_name).stem if suite_name.endswith(".jsonl") else suite_name + (f"@{sample}" if sample else "")
        for variant, switch in ANSWER_VARIANTS.items():
            with switch():
                suite = build_suite(suite_name, settings, sample=sample, seed=SQUAD_SEED, limit=None)
                summary = run_suite(suite, out_dir=None, progress=False, charts=False).summary
            metrics = summary.get("metrics", {})
            figures = {m: metrics[m] for m in METRICS if metrics.get(m) is not None}
            found.setdefault(label, {})[variant] = figures
            print(f"  {label:<22} {variant:<34} " + "  ".join(f"{m} {v:.3f}" for m, v in figures.items()), flush=True)
    return found


def main() -> None:
    settings = load_settings()
    print("answer rules, report sets (each rule switched off in turn):")
    results = {"command": "python evals/measure_fitted_rules.py", "answer_rules": answer_rules(settings)}
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
