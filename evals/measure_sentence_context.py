"""Does the answer scorer choose better when a sentence that refers back is read with the one before it?

    python evals/measure_sentence_context.py            # collect (resumable), then print the table
    python evals/measure_sentence_context.py --table    # print the table from what was collected

A sentence often names its subject only through the one before ("The vault will be moved to a bunker
under Mount Hella." after "The Coastal Seed Vault, known as the Kelda store, ..."), so the scorer, reading
each sentence alone, prefers a sentence that names the subject and says nothing of what was asked.
For every candidate the scorer reads (the same shortlist as `answer_rows.py`), this stores its
logit alone and its logit read after the passage's previous sentence, and whether each quote (alone,
or with the sentence before) answers. It then compares, per domain and part, which candidate comes
first under each reading rule:

- `alone`: what ships (the sentence alone);
- `refers`: a sentence opening with a pronoun or demonstrative ("It", "This", "They", ...) is read,
  and quoted, with the sentence before;
- `definite`: as `refers`, and also a sentence opening with a definite noun phrase ("The mission ...");
- `max`: every sentence is read both ways and the better logit counts (twice the scorer's pairs).

The rule is chosen on the fit parts (the most right first choices summed over domains), and judged on
the report parts, each domain on its own line. `max` was chosen; it ships as `answer.sentence_context =
"previous"` (not the default: twice the scorer's pairs; end-to-end figures in evals/README.md).
"""

from __future__ import annotations

import argparse
import json
import pickle
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from answer_rows import _engine, answers, asked_request, items_for, write_pickle  # noqa: E402

from assistant import load_settings  # noqa: E402
from assistant.answer.extractive import ExtractiveAnswerer  # noqa: E402
from assistant.answer.scorer import DEFAULT_MODEL_DIR, make_answer_scorer  # noqa: E402
from assistant.config import PROJECT_ROOT  # noqa: E402

OUT = PROJECT_ROOT / "evals" / "reports" / "sentence-context"
RESULT = PROJECT_ROOT / "evals" / "results" / "sentence_context.json"
DOMAINS = ("corpus", "cloud", "fiqa", "squad2")
_PRONOUN = re.compile(r"^(this|that|these|those|it|its|they|their|them|he|she|his|her|such|the latter|the former)\b", re.I)
_DEFINITE = re.compile(r"^the\s+[a-z]")  # "The mission ...": lower-case noun, not "The Hague"
RULES = ("alone", "refers", "definite", "max")


@dataclass(frozen=True)
class Candidate:
    logit: float
    context_logit: float | None  # read after the passage's previous sentence (None: first sentence)
    text: str
    right: bool                  # the sentence alone answers
    right_with_context: bool     # the previous sentence and it answer


def _collect(domain: str, part: str, engine, turns, scorer) -> list[list[Candidate]]:
    answerer = ExtractiveAnswerer(engine.settings.with_(answer={"scorer": "lexical"}).answer, engine.view())
    items = [it for it in items_for(domain, part, turns, squad2_report_sample=300, squad2_fit_sample=300) if it.answerable]
    found = []
    for item in items:
        request = asked_request(engine, item)
        scored = answerer.evidence(request, answerer.score_sentences(request), scorer=scorer)
        previous = []
        for s, _ in scored:
            spans = answerer._spans(s.passage)
            previous.append(s.passage.text[spans[s.position - 1][1]:spans[s.position - 1][2]] if s.position > 0 else None)
        pairs = [f"{p} {s.text}" for (s, _), p in zip(scored, previous) if p is not None]
        context_logits = iter(scorer.score(request.scored_question, pairs) if pairs else [])
        found.append([Candidate(logit, float(next(context_logits)) if p is not None else None, s.text,
                                answers(item, s.text, s.passage.source),
                                answers(item, f"{p} {s.text}" if p else s.text, s.passage.source))
                      for (s, logit), p in zip(scored, previous)])
    return found


def _first(candidates: list[Candidate], rule: str) -> bool:
    """Is the first choice under `rule` right (quoted with its previous sentence where it was read so)?"""
    best, best_right = float("-inf"), False
    for c in candidates:
        with_context = c.context_logit is not None and (
            rule == "max" and c.context_logit > c.logit
            or rule == "refers" and bool(_PRONOUN.match(c.text))
            or rule == "definite" and bool(_PRONOUN.match(c.text) or _DEFINITE.match(c.text)))
        logit = c.context_logit if with_context else c.logit
        if logit > best:
            best, best_right = logit, c.right_with_context if with_context else c.right
    return best_right


def table() -> dict:
    result = {}
    for path in sorted(OUT.glob("*.pkl")):
        questions = pickle.loads(path.read_bytes())
        result[path.stem] = {"questions": len(questions),
                             **{rule: round(sum(_first(q, rule) for q in questions if q) / max(len(questions), 1), 3) for rule in RULES}}
    fit = {rule: sum(v[rule] * v["questions"] for k, v in result.items() if k.endswith("-fit")) for rule in RULES}
    chosen = max(RULES, key=lambda r: (round(fit[r], 6), -RULES.index(r)))
    return {"command": "python evals/measure_sentence_context.py", "right_first_choice": result,
            "chosen_on_fit": chosen}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="store_true", help="only print the table from what was collected")
    args = parser.parse_args()
    if not args.table:
        settings = load_settings()
        scorer = make_answer_scorer(DEFAULT_MODEL_DIR)
        for domain in DOMAINS:
            parts = ("report",) if domain == "corpus" else ("fit", "report")
            todo = [p for p in parts if not (OUT / f"{domain}-{p}.pkl").is_file()]
            if not todo:
                continue
            started = time.perf_counter()
            engine, turns = _engine(domain, settings)
            for part in todo:
                write_pickle(OUT / f"{domain}-{part}.pkl", _collect(domain, part, engine, turns, scorer))
                print(f"{domain} {part}: {time.perf_counter() - started:.0f} s", flush=True)
    result = table()
    RESULT.write_text(json.dumps(result, indent=1) + "\n")
    for name, row in result["right_first_choice"].items():
        print(f"  {name:14s} n={row['questions']:4d}  " + "  ".join(f"{r} {row[r]:.3f}" for r in RULES))
    print("chosen on the fit parts:", result["chosen_on_fit"])


if __name__ == "__main__":
    main()
