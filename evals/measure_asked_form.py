"""Which form of a follow-up the answer scorer reads (issue 28 item 3), chosen on the MTRAG fit parts.

    python evals/measure_asked_form.py [--part fit|report] [--forms pile,bare,last_question,referent]

Retrieval always searches the rewritten query ("Who created it? (coordinates deliveries Ukraine 50
countries)"); the forms differ only in what the learned scorer and the confidence model read:
- pile: that same keyword-padded query (the behaviour before);
- bare: the turn as the user wrote it;
- last_question: the turn plus the last question in its own words ("Who created it? (Which group...)");
- referent: the turn plus the last answer's short answer, else the first name in the last answer, else
  the last question (`assistant.conversation.rewrite.asked_form`, what `answer.followup_scoring = "asked"` reads).
A turn that does not refer back reads the same in every form but `pile`'s.

Each form runs the `mtrag` suite's with-history mode on both domains (the suite's seeded conversation
split, 1,000-passage sub-pool). The rule, fixed before looking: the form with the best mean fit answer
support among those that, on each fit domain, abstain on no more answerable turns and on no fewer
unanswerable ones than `pile`. Figures go to evals/results/asked_form.json, each domain on its own line.
The report part decides the default: the fit choice ships only if no report domain loses answer support.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.config import load_settings  # noqa: E402
from assistant.conversation import rewriters  # noqa: E402
from assistant.conversation.rewrite import asked_form, refers_back  # noqa: E402
from assistant.evaluation.mtrag import run_mtrag  # noqa: E402
from assistant.evaluation.mtrag_data import DOMAINS, GATED_POOL  # noqa: E402
from assistant.types import Turn  # noqa: E402

AskedForm = Callable[[str, Sequence[Turn]], str]


def _last_question(message: str, history: Sequence[Turn]) -> str:
    message = message.strip()
    if not history or not refers_back(message):
        return message
    last = history[-1]
    return f"{message} ({(last.standalone_question or last.question).strip().rstrip('?')})"


FORMS: dict[str, AskedForm] = {
    "pile": lambda message, history: "",  # '': the scorer reads the standalone (padded) query
    "bare": lambda message, history: message.strip() if history else "",
    "last_question": _last_question,
    "referent": asked_form,
}
METRICS = ("answer_support", "false_abstention", "abstention_unanswerable", "recall@5_later")


def measure(part: str, forms: Sequence[str]) -> dict[str, dict[str, dict[str, float]]]:
    settings = load_settings(answer={"followup_scoring": "asked"})  # the forms below replace what "asked" reads
    figures: dict[str, dict[str, dict[str, float]]] = {}
    for name in forms:
        rewriters.DeterministicRewriter.asked = lambda self, question, history, form=FORMS[name]: form(question, history)
        for domain in ("cloud", "fiqa"):
            _, summary = run_mtrag(settings, pool=GATED_POOL, part=part, domain=DOMAINS[domain], modes=("with_history",),
                                   progress=False, out_dir=ROOT / "evals" / "reports" / f"asked-{name}-{domain}-{part}")
            row = summary["table"]["with_history"]
            figures.setdefault(name, {})[domain] = {m: round(float(row[m]), 3) for m in METRICS if row.get(m) is not None}
            print(f"{part:6s} {name:14s} {domain:6s} " + "  ".join(f"{m} {v:.3f}" for m, v in figures[name][domain].items()),
                  flush=True)
    return figures


def choose(figures: dict[str, dict[str, dict[str, float]]]) -> str:
    """The rule in the module docstring, on fit figures."""
    base = figures["pile"]
    allowed = [name for name, by_domain in figures.items()
               if all(by_domain[d]["false_abstention"] <= base[d]["false_abstention"]
                      and by_domain[d]["abstention_unanswerable"] >= base[d]["abstention_unanswerable"] for d in by_domain)]
    return max(allowed, key=lambda name: (sum(v["answer_support"] for v in figures[name].values()), name == "pile"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("fit", "report"), default="fit")
    parser.add_argument("--forms", default=",".join(FORMS))
    parser.add_argument("--results", type=Path, default=ROOT / "evals" / "results" / "asked_form.json")
    args = parser.parse_args()
    forms = [f for f in args.forms.split(",") if f]
    figures = measure(args.part, forms)
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    results["command"] = "python evals/measure_asked_form.py --part fit; python evals/measure_asked_form.py --part report"
    results["data"] = "MTRAG Cloud and FiQA, seeded conversation split, 1,000-passage sub-pools, with-history mode"
    results[args.part] = figures
    if args.part == "fit" and "pile" in figures:
        results["chosen_on_fit"] = choose(figures)
        print("chosen on the fit parts:", results["chosen_on_fit"])
    chosen = results.get("chosen_on_fit")
    if args.part == "report" and chosen in figures and "pile" in figures:
        holds = all(figures[chosen][d]["answer_support"] >= figures["pile"][d]["answer_support"] for d in figures["pile"])
        results["default"] = "asked" if holds else "query"  # answer.followup_scoring
        print("report parts:", "every domain holds" if holds else "a domain loses answer support", "-> default", results["default"])
    args.results.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
