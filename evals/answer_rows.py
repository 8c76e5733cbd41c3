"""Collect the answer scorer's candidate rows for every domain's fit and report part, once.

Everything the answer-trust fit needs (evals/fit_answer_trust.py) and every per-domain report
figure it prints comes from these rows, so the expensive part (indexing, retrieval, the
cross-encoder) runs once and the fitting runs in seconds:

    python evals/answer_rows.py [--domains squad2,cloud,fiqa,corpus] [--squad2-report-sample 600]

For each question the real pipeline runs as `ExtractiveAnswerer` does at question time: retrieve
over the domain's collection, shortlist sentences with the lexical score, re-read the shortlist
with the shipped scorer, and compute each candidate's feature row (`answerability.FEATURES`).
A candidate's label says whether it answers:

- SQuAD 2.0 and the bundled corpus: the sentence holds a gold answer string (never for an
  unanswerable question);
- MTRAG (Cloud, FiQA): the sentence comes from one of the turn's gold passages (MTRAG marks passages,
  not spans). Turns are asked as a conversation asks them: the deterministic follow-up rewrite over
  the benchmark's history. Underspecified turns are left to the clarification work.

Parts: SQuAD by the seeded article split (fit = the calibration articles the scorer never trained
on; report = a stratified seeded sample of the report articles, as `eval --suite squad2 --sample N`
asks), MTRAG by the seeded conversation split (`mtrag.part_of`), the bundled corpus report only.
Rows are written per domain and part to evals/reports/answer-rows/ (git-ignored); a finished file is
reused, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant import Assistant, load_settings  # noqa: E402
from assistant.answer.answerability import FEATURES  # noqa: E402
from assistant.answer.base import AnswerRequest  # noqa: E402
from assistant.answer.extractive import ExtractiveAnswerer  # noqa: E402
from assistant.answer.scorer import DEFAULT_MODEL_DIR, make_answer_scorer  # noqa: E402
from assistant.config import PROJECT_ROOT, Settings  # noqa: E402
from assistant.conversation.rewrite import rewrite_followup  # noqa: E402
from assistant.evaluation.gold import load_gold  # noqa: E402
from assistant.evaluation.metrics import alias_match  # noqa: E402
from assistant.evaluation.mtrag import open_subpool  # noqa: E402
from assistant.evaluation.mtrag_data import ANSWERABLE, DOMAINS, GATED_POOL, part_of  # noqa: E402
from assistant.evaluation.splits import (  # noqa: E402
    article_of,
    calibration_articles,
    squad_article_split,
)
from assistant.evaluation.suites import (  # noqa: E402
    BUNDLED_CORPUS,
    CORPUS_GOLD,
    SQUAD2_DIR,
    SQUAD_SEED,
    load_squad_items,
    squad_settings,
    stratified_sample,
)
from assistant.types import Turn  # noqa: E402

OUT = PROJECT_ROOT / "evals" / "reports" / "answer-rows"
INDEPENDENT_GOLD = PROJECT_ROOT / "evals" / "gold" / "corpus_independent.jsonl"
DOMAIN_NAMES = ("corpus", "cloud", "fiqa", "squad2")


@dataclass(frozen=True)
class Question:
    """One asked question and its scored candidates (scorer order)."""

    domain: str
    part: str
    group: str            # article or conversation: the unit folds are made of
    key: str
    question: str         # as the user asked it
    sent: str             # what the answerer read (the rewritten follow-up)
    answerable: bool
    rows: np.ndarray      # candidates x FEATURES
    labels: np.ndarray    # candidate answers the question
    lexical_top: float    # the lexical path's best sentence score (its abstention signal)
    texts: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Asked:
    group: str
    key: str
    question: str
    history: tuple[Turn, ...]
    answerable: bool
    answers: tuple[str, ...]   # gold answer strings (SQuAD, corpus)
    gold: tuple[str, ...]      # gold passage sources (MTRAG)


def _squad_items(part: str, report_sample: int, fit_sample: int | None) -> list[Asked]:
    split = squad_article_split()
    path = SQUAD2_DIR / "questions.dev.jsonl"
    if part == "fit":
        items = load_squad_items(path, sample=None, articles=calibration_articles(split))
        if fit_sample is not None and fit_sample < len(items):
            items = tuple(stratified_sample(items, fit_sample, SQUAD_SEED))
    else:
        items = tuple(stratified_sample(load_squad_items(path, sample=None, articles=split.report), report_sample, SQUAD_SEED))
    return [Asked(article_of(it.sources[0]), it.id, it.question, (), it.answerable, tuple(it.answers), ()) for it in items]


def _mtrag_items(domain: str, part: str, turns: Sequence) -> list[Asked]:
    chosen = [t for t in turns if part_of(t.conversation_id) == part and t.label != "UNDERSPECIFIED"]
    return [Asked(t.conversation_id, t.key, t.question, tuple(Turn(question=q, answer=a) for q, a in t.history),
                  t.label in ANSWERABLE, (), tuple(t.gold)) for t in chosen]


def _corpus_items() -> list[Asked]:
    asked = []
    for path in (CORPUS_GOLD, INDEPENDENT_GOLD):
        for item in load_gold(path):
            group = f"{path.stem}/{item.id}"
            asked.append(Asked(group, group, item.question, (), item.answerable, tuple(item.answers), ()))
            history = [Turn(question=item.question, answer=" ".join(item.answers))]
            for n, turn in enumerate(item.turns, start=1):
                asked.append(Asked(group, f"{group}/t{n}", turn.question, tuple(history), turn.answerable,
                                   tuple(turn.answers), ()))
                history.append(Turn(question=turn.question, answer=" ".join(turn.answers)))
    return asked


def items_for(domain: str, part: str, turns: Sequence | None, *, squad2_report_sample: int,
              squad2_fit_sample: int | None) -> list[Asked]:
    """The questions of one domain's part (`turns`: MTRAG's labelled turns, from `_engine`)."""
    if domain == "squad2":
        return _squad_items(part, squad2_report_sample, squad2_fit_sample)
    if domain == "corpus":
        return _corpus_items()
    return _mtrag_items(domain, part, turns or ())


def asked_request(engine: Assistant, item: Asked) -> AnswerRequest:
    """The item asked as a conversation asks it: the follow-up rewritten over its history, then retrieved."""
    sent = rewrite_followup(item.question, item.history) if item.history else item.question
    passages = engine.retrieve(sent, top_k=engine.settings.retrieval.top_k)
    return AnswerRequest(question=sent, query_vector=engine.embedder.embed_query(sent), passages=tuple(passages),
                         history=item.history)


def answers(item: Asked, text: str, source: str) -> bool:
    """Does this sentence answer the item? MTRAG: it comes from a gold passage; else it holds a gold answer."""
    if not item.answerable:
        return False
    return source in item.gold if item.gold else alias_match(text, item.answers)


def collect(engine: Assistant, domain: str, part: str, items: Iterable[Asked]) -> list[Question]:
    settings = engine.settings.with_(answer={"scorer": "lexical"})
    answerer = ExtractiveAnswerer(settings.answer, engine.view())
    scorer = make_answer_scorer(DEFAULT_MODEL_DIR)
    found = []
    items = list(items)
    started = time.perf_counter()
    for n, item in enumerate(items, start=1):
        request = asked_request(engine, item)
        sent = request.question
        ranked = answerer.score_sentences(request)
        scored = answerer.evidence(request, ranked, scorer=scorer)
        rows = np.array(answerer.judged(request, scored), dtype=float).reshape(len(scored), len(FEATURES))
        labels = [answers(item, s.text, s.passage.source) for s, _ in scored]
        found.append(Question(domain, part, item.group, item.key, item.question, sent, item.answerable, rows,
                              np.array(labels, dtype=float), ranked[0].score if ranked else 0.0,
                              tuple(s.text for s, _ in scored), tuple(s.passage.source for s, _ in scored)))
        if n % 100 == 0:
            print(f"  {domain} {part}: {n}/{len(items)} ({time.perf_counter() - started:.0f} s)", flush=True)
    return found


def write_pickle(path: Path, value: object) -> None:
    """Write atomically: an interrupted run leaves no half file that a resumed run would trust."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps(value))
    os.replace(tmp, path)


def _save(path: Path, questions: list[Question]) -> None:
    write_pickle(path, [vars(q) for q in questions])  # plain dicts: readable from any script


def load_rows(domain: str, part: str, out: Path = OUT) -> list[Question]:
    return [Question(**q) for q in pickle.loads((out / f"{domain}-{part}.pkl").read_bytes())]


def _engine(domain: str, settings: Settings) -> tuple[Assistant, list | None]:
    if domain == "squad2":
        engine = Assistant(squad_settings(settings))
        engine.index(show_progress=False)
        return engine, None
    if domain == "corpus":
        engine = Assistant(settings.with_(corpus={"path": BUNDLED_CORPUS}, store={"collection": "eval-corpus"}))
        engine.index(show_progress=False)
        return engine, None
    engine, turns, *_ = open_subpool(settings, domain=DOMAINS[domain], pool=GATED_POOL, progress=False)
    return engine, turns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", default=",".join(DOMAIN_NAMES))
    parser.add_argument("--squad2-report-sample", type=int, default=600)
    parser.add_argument("--squad2-fit-sample", type=int, default=None,
                        help="a stratified seeded sample of the calibration articles' questions (default all)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    settings = load_settings()
    for domain in args.domains.split(","):
        parts = ("report",) if domain == "corpus" else ("fit", "report")
        todo = [p for p in parts if not (args.out / f"{domain}-{p}.pkl").is_file()]
        if not todo:
            continue
        started = time.perf_counter()
        engine, turns = _engine(domain, settings)
        print(f"{domain}: index ready in {time.perf_counter() - started:.0f} s", flush=True)
        for part in todo:
            items = items_for(domain, part, turns, squad2_report_sample=args.squad2_report_sample,
                              squad2_fit_sample=args.squad2_fit_sample)
            questions = collect(engine, domain, part, items)
            _save(args.out / f"{domain}-{part}.pkl", questions)
            print(f"{domain} {part}: {len(questions)} questions, {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
