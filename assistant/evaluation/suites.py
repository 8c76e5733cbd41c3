"""Eval suites: which gold items to ask, against which corpus and collection.

- ``corpus``: the hand-written gold set for the bundled news corpus (evals/gold/corpus.jsonl).
- ``squad``: a fixed, seeded sample of SQuAD v1.1 dev questions over its 2,067 passages,
  indexed into their own collection.
- any path to a ``.jsonl`` gold file: a user's own gold set, over the configured corpus.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from assistant.config import PROJECT_ROOT, Settings
from assistant.evaluation.errors import EvalError, GoldFormatError
from assistant.evaluation.gold import GoldItem, load_gold
from assistant.jsonl import iter_json_objects

EVALS_DIR = PROJECT_ROOT / "evals"
CORPUS_GOLD = EVALS_DIR / "gold" / "corpus.jsonl"
BUNDLED_CORPUS = PROJECT_ROOT / "corpus"
SQUAD_DIR = EVALS_DIR / "data" / "squad-v1.1-dev"
SQUAD_DEFAULT_SAMPLE = 200
SQUAD_SEED = 1234
SUITE_NAMES = ("corpus", "squad")


@dataclass(frozen=True)
class Suite:
    """A named list of gold items and the settings (corpus, collection) to run them with."""

    name: str
    items: tuple[GoldItem, ...]
    settings: Settings
    description: str
    sample: int | None = None  # squad: the sample size; the gate looks for "squad@<sample>" thresholds first
    limit: int | None = None  # set when only the first N items are asked (a partial run the gate refuses)


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
        ids = set()
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                if isinstance(record, dict) and isinstance(record.get("id"), str):
                    ids.add(record["id"].strip())
        return ids
    raise EvalError(f"corpus not found: {path} (a folder of documents or a .jsonl file)")


def load_squad_items(questions_path: Path, *, sample: int | None, seed: int = SQUAD_SEED) -> tuple[GoldItem, ...]:
    """SQuAD questions as gold items; `sample` picks a seeded subset (stable across runs and machines)."""
    items: list[GoldItem] = []
    try:
        lines = questions_path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise EvalError(f"SQuAD questions not found: {questions_path}") from None
    bad_line = lambda n, problem: GoldFormatError(str(questions_path), n, problem)  # noqa: E731
    for line_no, rec in iter_json_objects(lines, bad_line):
        try:
            items.append(
                GoldItem(
                    id=rec["id"],
                    question=rec["question"].strip(),
                    answers=tuple(dict.fromkeys(a for a in rec["answers"] if a.strip())),
                    sources=tuple(rec["gold_passage_ids"]),
                    answerable=not rec.get("is_impossible", False),
                    category="single",
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise bad_line(line_no, f"bad SQuAD record: {exc}") from None
    items.sort(key=lambda it: it.id)
    if sample is not None and sample < len(items):
        # A seeded shuffle, then a prefix: a smaller sample is always part of a larger one,
        # so a CI run on 100 questions is the first half of the default 200.
        random.Random(seed).shuffle(items)
        items = items[:sample]
    return tuple(items)


def build_suite(
    name: str,
    settings: Settings,
    *,
    sample: int | None = None,
    seed: int = SQUAD_SEED,
    limit: int | None = None,
) -> Suite:
    """Resolve a suite name (or gold file path) to its items and settings.

    `sample` (squad only) is the seeded sample size, default 200; `limit` keeps the first N items
    of any suite after sampling (a quick smoke run).
    """
    if limit is not None and limit < 1:
        raise EvalError(f"--limit must be at least 1, got {limit}")
    if name == "corpus":
        known = corpus_doc_ids(BUNDLED_CORPUS, settings.corpus.extensions)
        items = load_gold(CORPUS_GOLD, known_sources=known)
        derived = settings.with_(corpus={"path": BUNDLED_CORPUS}, store={"collection": "eval-corpus"})
        description = f"hand-written gold set for the bundled news corpus ({CORPUS_GOLD.relative_to(PROJECT_ROOT)})"
        sample = None
    elif name == "squad":
        n = SQUAD_DEFAULT_SAMPLE if sample is None else sample
        sample = n
        if n < 1:
            raise EvalError(f"--sample must be at least 1, got {n}")
        items = load_squad_items(SQUAD_DIR / "questions.dev.jsonl", sample=n, seed=seed)
        derived = settings.with_(corpus={"path": SQUAD_DIR / "passages.jsonl"}, store={"collection": "eval-squad"})
        description = f"SQuAD v1.1 dev: seeded sample of {len(items)} questions (seed {seed}) over 2,067 passages"
    elif name.endswith(".jsonl"):
        path = Path(name)
        known = corpus_doc_ids(settings.corpus.path, settings.corpus.extensions)
        items = load_gold(path, known_sources=known)
        derived = settings
        description = f"gold file {path} over corpus {settings.corpus.path}"
        name = path.stem
        sample = None
    else:
        raise EvalError(f"unknown suite {name!r}: use one of {', '.join(SUITE_NAMES)} or a path to a gold .jsonl file")
    if limit is not None:
        items = items[:limit]
    return Suite(name=name, items=tuple(items), settings=derived, description=description, sample=sample, limit=limit)
