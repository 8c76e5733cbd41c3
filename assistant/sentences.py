"""Sentence segmentation with exact character offsets (citations quote exact spans) and term extraction.

Sentences come from NLTK's Punkt with the English model that llama-index-core ships in its NLTK cache
(loaded from that folder, never downloaded), run line by line: a line or paragraph break always ends a
sentence, whatever Punkt would say. `evals/measure_sentence_rules.py` measures the choices below on the
SQuAD v1.1 report articles (gold answers cut by a sentence boundary, of 2,627): the replaced regex
splitter cut 8; Punkt with the added abbreviations and `lowercase_continues` cuts 4, without
`lowercase_continues` 5; treating every single-letter initial as an abbreviation (the old `initials`
rule) changes nothing, so Punkt's own handling of initials is kept."""

from __future__ import annotations

import importlib.util
import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import MissingExtraError

if TYPE_CHECKING:
    from nltk.tokenize.punkt import PunktSentenceTokenizer

# Common English abbreviations Punkt's English model lacks (its abbreviation types are learned from news
# text): added as abbreviation types, so Punkt's orthographic heuristics still end a sentence after one
# when the next word is a likely sentence start ("..., etc. While ...").
ABBREVIATIONS = frozenset({
    "e.g", "i.e", "etc", "vs", "no", "fig", "approx", "dept", "est",
    "capt", "sgt", "gov", "mar", "apr", "jun", "jul",
})
_LINE = re.compile(r"[^\n]+")
logger = logging.getLogger(__name__)
_MIN_SENTENCE_CHARS = 3


def sentence_spans(text: str, *, lowercase_continues: bool = True,
                   abbreviations: frozenset[str] = ABBREVIATIONS) -> list[tuple[int, int]]:
    """(start, end) offsets of each sentence in `text`, in order, trimmed of surrounding space.

    `lowercase_continues`: a piece Punkt splits off that starts with a lower-case letter continues the
    sentence before it ("Chinese people[who?] who did", "E.I. du Pont"); Punkt applies that test only
    after known abbreviations. `abbreviations`: added to Punkt's own (for measuring)."""
    tokenizer = _tokenizer(abbreviations)
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        base, pieces = line.start(), []
        for start, end in _line_spans(tokenizer, line.group(0)):
            start, end = _trim(text, base + start, base + end)
            if end <= start:
                continue
            if pieces and lowercase_continues and text[start].islower():
                pieces[-1] = (pieces[-1][0], end)
            else:
                pieces.append((start, end))
        spans.extend(span for span in pieces if span[1] - span[0] >= _MIN_SENTENCE_CHARS)
    return spans


def _line_spans(tokenizer: PunktSentenceTokenizer, line: str) -> list[tuple[int, int]]:
    """Punkt's sentences of one line; the whole line as one sentence when NLTK's guard against
    pathological regex backtracking gives up on it (TimeoutError), so one odd line can neither stop
    an index run nor a question, and offsets stay exact."""
    try:
        return list(tokenizer.span_tokenize(line))
    except TimeoutError:
        logger.warning("sentence splitting gave up on a %d-character line; it is kept as one sentence", len(line))
        return [(0, len(line))]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


@lru_cache(maxsize=4)
def _tokenizer(abbreviations: frozenset[str]) -> PunktSentenceTokenizer:
    import nltk.data
    from nltk.tokenize.punkt import PunktSentenceTokenizer, load_punkt_params

    root = _punkt_data_root()
    # NLTK opens data files only under a folder on its search path; llama-index adds this same folder.
    if str(root) not in nltk.data.path:
        nltk.data.path.append(str(root))
    try:
        params = load_punkt_params(nltk.data.find("tokenizers/punkt_tab/english/", paths=[str(root)]))
    except LookupError as exc:
        raise MissingExtraError("Sentence splitting (the Punkt model in its NLTK cache)", "all", "llama-index-core") from exc
    params.abbrev_types |= abbreviations
    return PunktSentenceTokenizer(params)


def _punkt_data_root() -> Path:
    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError("Sentence splitting (the Punkt model in its NLTK cache)", "all", "llama-index-core")
    return Path(next(iter(spec.submodule_search_locations))) / "_static" / "nltk_cache"


def split_sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


_WORD = re.compile(r"[A-Za-z0-9]+(?:[’'][A-Za-z]+)?")

STOPWORDS = frozenset(
    ["a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself", "yourselves", "one", "ones", "did", "does", "said", "says", "say", "tell", "told", "much", "many"]
)


def words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


@lru_cache(maxsize=1)
def _snowball():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball English stem, so 'members'/'member' and 'based'/'base' meet (same stemmer as BM25)."""
    return _snowball().stemWord(word.removesuffix("'s"))


def content_terms(text: str) -> list[str]:
    """Stemmed, stop-word-free terms in order of appearance."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]
