"""The one article-level fit/report split of the SQuAD dev data.

Everything that learns, calibrates or picks a threshold on SQuAD uses the *fit* articles only;
everything that reports or gates uses the *report* articles only. Splitting by article, not by
question, keeps a paragraph's neighbours (same topic, same names, same writers) on one side, so a
report figure measures questions about text nothing was fit on.

SQuAD passage ids are ``"<Article_title>#<paragraph index>"``. The v1.1 and v2.0 question files of
``evals/data/`` are keyed to the same passages, so one split of their articles serves both.

The split: articles are grouped by which question files ask about them (24 articles have v1.1
and v2.0 questions, 4 only v1.1), so each file gets about half its articles on each side; within a
group the distinct titles are sorted, shuffled with ``random.Random(ARTICLE_SPLIT_SEED)``, and the
first ``round(report_share * n)`` are report articles. ``ARTICLE_SPLIT_SEED = 20261124`` was fixed
once (the date it was introduced) and must not change: changing it moves articles between fit and
report and silently invalidates every model or threshold fit on the old fit side.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from assistant.config import PROJECT_ROOT
from assistant.evaluation.errors import EvalError
from assistant.jsonl import iter_json_objects

ARTICLE_SPLIT_SEED = 20261124
REPORT_SHARE = 0.5
SQUAD_DATA_DIR = PROJECT_ROOT / "evals" / "data"
# Both question files; the v2.0 articles are a subset of the v1.1 ones (24 of 28), listed together
# so the split's universe does not depend on which file a caller happens to read.
SQUAD_QUESTION_FILES = (
    SQUAD_DATA_DIR / "squad-v1.1-dev" / "questions.dev.jsonl",
    SQUAD_DATA_DIR / "squad-v2.0-dev" / "questions.dev.jsonl",
)

Part = Literal["fit", "report"]
T = TypeVar("T")


class SplitError(EvalError):
    """A passage id without an article, an item on both sides of the split, or a bad split request."""


@dataclass(frozen=True)
class ArticleSplit:
    """Disjoint, sorted article titles: `fit` (learn, calibrate, tune) and `report` (measure, gate)."""

    fit: tuple[str, ...]
    report: tuple[str, ...]
    seed: int
    report_share: float

    def articles(self, part: Part) -> tuple[str, ...]:
        return self.report if part == "report" else self.fit

    def describe(self, part: Part = "report") -> str:
        """The line every report carries: which part, how many articles, which seed."""
        return f"{part} split: {len(self.articles(part))} articles, seed {self.seed}"


def article_of(passage_id: str) -> str:
    """The article title of a SQuAD passage id ``"<Article_title>#<n>"``."""
    article, sep, paragraph = passage_id.rpartition("#")
    if not sep or not article or not paragraph.isdigit():
        raise SplitError(f"not a SQuAD passage id '<Article_title>#<n>': {passage_id!r}")
    return article


def split_articles(articles: Iterable[str], *, seed: int = ARTICLE_SPLIT_SEED, report_share: float = REPORT_SHARE) -> ArticleSplit:
    """Split article titles into fit and report parts, deterministically.

    Sorting first makes the result independent of the input order and of duplicates; both parts
    always get at least one article.
    """
    if not 0 < report_share < 1:
        raise SplitError(f"report_share must be strictly between 0 and 1, got {report_share}")
    ordered = sorted(set(articles))
    if len(ordered) < 2:
        raise SplitError(f"need at least 2 distinct articles to split, got {len(ordered)}")
    random.Random(seed).shuffle(ordered)
    n_report = min(len(ordered) - 1, max(1, round(report_share * len(ordered))))
    return ArticleSplit(fit=tuple(sorted(ordered[n_report:])), report=tuple(sorted(ordered[:n_report])),
                        seed=seed, report_share=report_share)


def item_article(passage_ids: Iterable[str]) -> str:
    """The one article a question's gold passages belong to."""
    found = {article_of(pid) for pid in passage_ids}
    if len(found) != 1:
        raise SplitError(f"a question must have gold passages in exactly one article, got {sorted(found) or 'none'}")
    return found.pop()


def select_articles(items: Iterable[T], articles: Collection[str], passage_ids: Callable[[T], Iterable[str]]) -> list[T]:
    """The items whose gold passages lie in `articles` (input order kept)."""
    keep = set(articles)
    return [item for item in items if item_article(passage_ids(item)) in keep]


def read_question_articles(path: Path) -> set[str]:
    """The articles a SQuAD question file asks about (read on call, never at import)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise SplitError(f"SQuAD questions not found: {path}") from None
    found: set[str] = set()
    for line_no, record in iter_json_objects(lines, lambda n, problem: SplitError(f"{path}:{n}: bad SQuAD record ({problem})")):
        try:
            found.add(item_article(record["gold_passage_ids"]))
        except (KeyError, TypeError) as exc:
            raise SplitError(f"{path}:{line_no}: bad SQuAD record ({exc})") from None
    return found


def split_strata(strata: Iterable[Iterable[str]], *, seed: int = ARTICLE_SPLIT_SEED, report_share: float = REPORT_SHARE) -> ArticleSplit:
    """Split each group of articles on its own (same seed and share) and join the parts."""
    parts = [split_articles(group, seed=seed, report_share=report_share) for group in strata]
    fit = [a for part in parts for a in part.fit]
    report = [a for part in parts for a in part.report]
    if len(set(fit) | set(report)) != len(fit) + len(report):
        raise SplitError("the strata overlap: an article may belong to one group only")
    return ArticleSplit(fit=tuple(sorted(fit)), report=tuple(sorted(report)), seed=seed, report_share=report_share)


def group_by_files(articles_per_file: Sequence[set[str]]) -> list[set[str]]:
    """Articles grouped by the exact set of files that ask about them (groups in a fixed order)."""
    groups: dict[tuple[bool, ...], set[str]] = {}
    for article in set().union(*articles_per_file):
        groups.setdefault(tuple(article in found for found in articles_per_file), set()).add(article)
    return [groups[key] for key in sorted(groups)]


def squad_article_split(*, seed: int = ARTICLE_SPLIT_SEED, report_share: float = REPORT_SHARE,
                        question_files: Sequence[Path] = SQUAD_QUESTION_FILES) -> ArticleSplit:
    """The project's split of the SQuAD dev articles that have questions in `evals/data/`."""
    return split_strata(group_by_files([read_question_articles(p) for p in question_files]), seed=seed, report_share=report_share)


# A model trained on some fit articles is over-confident on exactly those articles, so the
# confidence calibration and the abstention threshold are fitted on fit articles the answer scorer
# never trained on: a seeded quarter of the fit articles that have SQuAD 2.0 (unanswerable)
# questions. Fixed once, like ARTICLE_SPLIT_SEED; report articles are never involved.
CALIBRATION_SEED = 20261129
CALIBRATION_SHARE = 0.25


def calibration_articles(split: ArticleSplit, *, seed: int = CALIBRATION_SEED, share: float = CALIBRATION_SHARE,
                         v2_questions: Path = SQUAD_QUESTION_FILES[1]) -> tuple[str, ...]:
    """The fit articles held out from training the answer scorer, to calibrate it on."""
    candidates = set(split.fit) & read_question_articles(v2_questions)
    return split_articles(candidates, seed=seed, report_share=share).report
