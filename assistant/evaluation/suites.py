"""Eval suites: which gold items to ask, against which corpus and collection.

- ``corpus``: the hand-written gold set for the bundled news corpus (evals/gold/corpus.jsonl).
- ``squad``: a fixed, seeded sample of the SQuAD v1.1 dev questions of the *report* articles
  (see `splits.py`) over all 2,067 passages, indexed into their own collection.
- ``squad2``: the SQuAD 2.0 dev questions (answerable and unanswerable) of the same report
  articles over the same collection; ``--sample N`` keeps their answerable/unanswerable mix.
- ``mtrag``: MTRAG Cloud conversations asked three ways on a sub-pool; its own runner and report
  (assistant/evaluation/mtrag.py, dispatched by `assistant eval --suite mtrag`).
- any path to a ``.jsonl`` gold file: a user's own gold set, over the configured corpus.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from assistant.config import PROJECT_ROOT, Settings
from assistant.evaluation.errors import EvalError, GoldFormatError
from assistant.evaluation.gold import GoldItem, load_gold
from assistant.evaluation.splits import (
    ArticleSplit,
    article_of,
    select_articles,
    squad_article_split,
)
from assistant.jsonl import iter_json_objects, read_json_lines

EVALS_DIR = PROJECT_ROOT / "evals"
CORPUS_GOLD = EVALS_DIR / "gold" / "corpus.jsonl"
BUNDLED_CORPUS = PROJECT_ROOT / "corpus"
SQUAD_DIR = EVALS_DIR / "data" / "squad-v1.1-dev"
SQUAD2_DIR = EVALS_DIR / "data" / "squad-v2.0-dev"
SQUAD_COLLECTION = "eval-squad"  # squad and squad2 ask over the same 2,067 passages: one index serves both
SQUAD_DEFAULT_SAMPLE = 200
SQUAD_SEED = 1234
SUITE_NAMES = ("corpus", "squad", "squad2")


@dataclass(frozen=True)
class Suite:
    """A named list of gold items and the settings (corpus, collection) to run them with."""

    name: str
    items: tuple[GoldItem, ...]
    settings: Settings
    description: str
    sample: int | None = None  # squad/squad2: the sample size; the gate looks for "<suite>@<sample>" thresholds first
    limit: int | None = None  # set when only the first N items are asked (a partial run the gate refuses)
    split: ArticleSplit | None = None  # SQuAD suites: the article split; their items come from its report part


def corpus_doc_ids(path: Path, extensions: tuple[str, ...]) -> set[str]:
    """The doc ids a corpus folder or JSONL file would produce (no parsing of the documents)."""
    if path.is_dir():
        exts = {e.lower() for e in extensions}
        return {
            p.relative_to(path).as_posix()
            for p in path.rglob("*")
            if p.is_file() and p.suffix.lower() in exts and not any(part.startswith(".") for part in p.relative_to(path).parts)
        }
    if path.is_file() and path.suffix.lower() == ".jsonl":
        return {record["id"].strip() for record in read_json_lines(path)
                if isinstance(record, dict) and isinstance(record.get("id"), str)}
    raise EvalError(f"corpus not found: {path} (a folder of documents or a .jsonl file)")


def read_squad_items(questions_path: Path) -> list[GoldItem]:
    """Every question of a SQuAD JSONL file as a gold item, sorted by id (unanswerable ones included)."""
    items: list[GoldItem] = []
    try:
        lines = questions_path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise EvalError(f"SQuAD questions not found: {questions_path}") from None
    bad_line = lambda n, problem: GoldFormatError(str(questions_path), n, problem)  # noqa: E731
    for line_no, rec in iter_json_objects(lines, bad_line):
        try:
            answerable = not rec.get("is_impossible", False)
            items.append(
                GoldItem(
                    id=rec["id"],
                    question=rec["question"].strip(),
                    answers=tuple(dict.fromkeys(a for a in rec["answers"] if a.strip())),
                    # Unanswerable questions keep the paragraph they were written against: it places
                    # them in the article split, and hit@k then scores whether retrieval found it.
                    sources=tuple(rec["gold_passage_ids"]),
                    answerable=answerable,
                    category="single" if answerable else "unanswerable",
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise bad_line(line_no, f"bad SQuAD record: {exc}") from None
    items.sort(key=lambda it: it.id)
    return items


def seeded_sample(items: Sequence[GoldItem], n: int, seed: int) -> list[GoldItem]:
    """A seeded shuffle of the id-sorted items, then a prefix: a smaller sample is always part of
    a larger one (a CI run on 100 questions is the first half of the default 200)."""
    shuffled = sorted(items, key=lambda it: it.id)
    random.Random(seed).shuffle(shuffled)
    return shuffled[:n]


def stratified_sample(items: Sequence[GoldItem], n: int, seed: int) -> list[GoldItem]:
    """A seeded sample that keeps the pool's share of unanswerable questions (sorted by id).

    Each stratum is a seeded prefix, so samples stay nested as `n` grows.
    """
    if n >= len(items):
        return sorted(items, key=lambda it: it.id)
    unanswerable = [it for it in items if not it.answerable]
    answerable = [it for it in items if it.answerable]
    n_unanswerable = round(n * len(unanswerable) / len(items))
    picked = seeded_sample(unanswerable, n_unanswerable, seed) + seeded_sample(answerable, n - n_unanswerable, seed)
    return sorted(picked, key=lambda it: it.id)


def load_squad_items(
    questions_path: Path,
    *,
    sample: int | None,
    seed: int = SQUAD_SEED,
    articles: Collection[str] | None = None,
) -> tuple[GoldItem, ...]:
    """SQuAD questions as gold items, restricted to `articles` when given; `sample` picks a seeded
    subset (stable across runs and machines)."""
    items = read_squad_items(questions_path)
    if articles is not None:
        items = select_articles(items, articles, lambda it: it.sources)
    if sample is not None and sample < len(items):
        items = seeded_sample(items, sample, seed)
    return tuple(items)


def squad_settings(settings: Settings) -> Settings:
    return settings.with_(corpus={"path": SQUAD_DIR / "passages.jsonl"}, store={"collection": SQUAD_COLLECTION})


def _check_sample(n: int | None) -> None:
    if n is not None and n < 1:
        raise EvalError(f"--sample must be at least 1, got {n}")


def _squad_suite(settings: Settings, sample: int | None, seed: int) -> Suite:
    n = SQUAD_DEFAULT_SAMPLE if sample is None else sample
    _check_sample(n)
    split = squad_article_split()
    items = load_squad_items(SQUAD_DIR / "questions.dev.jsonl", sample=n, seed=seed, articles=split.report)
    description = (f"SQuAD v1.1 dev, {split.describe('report')} (article-level): a seeded sample of "
                   f"{len(items)} of their questions (sample seed {seed}) over all 2,067 passages. Nothing fit, calibrated "
                   f"or thresholded on SQuAD may use these articles; the reranker weights predate the split "
                   f"(tuned on a question-level split, evals/results/tuning.json).")
    return Suite(name="squad", items=items, settings=squad_settings(settings), description=description, sample=n, split=split)


def _squad2_suite(settings: Settings, sample: int | None, seed: int) -> Suite:
    _check_sample(sample)
    split = squad_article_split()
    pool = load_squad_items(SQUAD2_DIR / "questions.dev.jsonl", sample=None, articles=split.report)
    items = tuple(stratified_sample(pool, sample, seed)) if sample is not None else pool
    n_articles = len({article_of(src) for it in pool for src in it.sources})
    n_unanswerable = sum(not it.answerable for it in items)
    chosen = f"a stratified seeded sample of {len(items)} (sample seed {seed})" if sample is not None and sample < len(pool) else f"all {len(items)}"
    description = (f"SQuAD 2.0 dev, {split.describe('report')} (article-level; {n_articles} of them have SQuAD 2.0 "
                   f"questions): {chosen} of their {len(pool)} questions, {n_unanswerable} unanswerable, "
                   f"over all 2,067 passages. Nothing fit, calibrated or thresholded on SQuAD may use these articles.")
    return Suite(name="squad2", items=items, settings=squad_settings(settings), description=description,
                 sample=sample, split=split)


def build_suite(
    name: str,
    settings: Settings,
    *,
    sample: int | None = None,
    seed: int = SQUAD_SEED,
    limit: int | None = None,
) -> Suite:
    """Resolve a suite name (or gold file path) to its items and settings.

    `sample` is the seeded sample size (squad: default 200; squad2: default all report questions,
    a sample keeps their answerable/unanswerable mix); `limit` keeps the first N items of any suite
    after sampling (a quick smoke run).
    """
    if limit is not None and limit < 1:
        raise EvalError(f"--limit must be at least 1, got {limit}")
    if name == "corpus":
        known = corpus_doc_ids(BUNDLED_CORPUS, settings.corpus.extensions)
        suite = Suite(name="corpus", items=load_gold(CORPUS_GOLD, known_sources=known),
                      settings=settings.with_(corpus={"path": BUNDLED_CORPUS}, store={"collection": "eval-corpus"}),
                      description=f"hand-written gold set for the bundled news corpus ({CORPUS_GOLD.relative_to(PROJECT_ROOT)})")
    elif name == "squad":
        suite = _squad_suite(settings, sample, seed)
    elif name == "squad2":
        suite = _squad2_suite(settings, sample, seed)
    elif name.endswith(".jsonl"):
        path = Path(name)
        known = corpus_doc_ids(settings.corpus.path, settings.corpus.extensions)
        suite = Suite(name=path.stem, items=load_gold(path, known_sources=known), settings=settings,
                      description=f"gold file {path} over corpus {settings.corpus.path}")
    else:
        raise EvalError(f"unknown suite {name!r}: use one of {', '.join(SUITE_NAMES)}, mtrag or a path to a gold .jsonl file")
    if limit is not None:
        suite = replace(suite, items=suite.items[:limit], limit=limit)
    return suite
