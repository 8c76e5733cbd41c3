"""Expected answer types from the question's wording, and whether a sentence offers one.

A sentence that merely restates the question does not answer it; the one that adds a place for
"where", a figure for "how many" or a date for "when" usually does."""

from __future__ import annotations

import re

_MONTHS = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
_DATE = re.compile(rf"\b{_MONTHS}\s+\d{{1,2}}\b|\b\d{{1,2}}\s+{_MONTHS}\b|\b(?:1[5-9]\d\d|20\d\d)\b|\b{_MONTHS}\b|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b|\b\d{{1,2}}[./]\d{{1,2}}[./]\d{{2,4}}\b")
# Whole numbers only: the digits of a hyphenated code ("COVID-19", "Model-3") are a name, not a quantity.
_NUMBER = re.compile(r"(?<![\w-])\d[\d,.]*(?:st|nd|rd|th)?(?![\w-])|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|million|billion|trillion|dozen)\b", re.I)
_PLACE = re.compile(r"\b(?:in|at|from|near|to|into|based)\s+(?:the\s+)?([A-Z][\w’'.-]+(?:\s+[A-Z][\w’'.-]+)*)")
_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b([A-Z][a-z’'.-]+(?:\s+(?:[A-Z]\.|[A-Z][a-z’'.-]+))+)")

# "which two countries", "what other cities", "which Polish city": a count or qualifier, and a capitalised
# modifier (a demonym or name), may stand between the wh-word and its noun; not a verb ("what happened years ago").
_QUALIFIER = (r"(?:(?:two|three|four|five|both|other|different|specific|exact|main|several)\s+)?"
              r"(?:(?-i:[A-Z][\w’'-]*)\s+)?")

# "what minimum amount", "what is the total cost": a measure word may qualify the quantity asked for.
_MEASURE = r"(?:(?:minimum|maximum|total|exact|approximate|average|overall|estimated|annual|combined|current)\s+)?"

_QUESTION_TYPES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"\b(how (many|much|long|far|old|large|big)|how often|(what|which) ((is|was|are|were) the )?{_MEASURE}"
                rf"(number|amount|percentage|share|size|sum|price|cost|total|rate|proportion|quantity))\b", re.I), "number"),
    (re.compile(rf"\b(when|(what|which) {_QUALIFIER}(years?|dates?|days?|months?)|what time)\b", re.I), "date"),
    (re.compile(rf"\b(where|(which|what) {_QUALIFIER}(city|cities|country|countries|places?|towns?|regions?|locations?)|which base)\b", re.I), "place"),
    (re.compile(r"\b(who|whom|whose)\b", re.I), "person"),
]


_ACRONYM_QUESTION = re.compile(r"(?i:\bwhat (?:does|do|did) )([A-Z][A-Z0-9]{1,9})(?i: (?:stand for|mean))|(?i:\b(?:full|complete) name of (?:the )?)([A-Z][A-Z0-9]{1,9})|(?i:\bwhat (?:is|are|was) (?:the )?)([A-Z][A-Z0-9]{1,9})\s*\??$")
_SKIPPED_IN_ACRONYMS = {"and", "of", "for", "the", "in", "on", "to", "&", "a", "an"}


def asked_acronym(question: str) -> str | None:
    """'What does UNESCO stand for?' / 'What is GDPR?' / 'full name of the IMF' -> the acronym."""
    match = _ACRONYM_QUESTION.search(question.strip())
    return next((g for g in match.groups() if g), None) if match else None


def _spells(words: list[str], acronym: str) -> bool:
    """Do consecutive words spell the acronym, each giving a prefix ('International Police' gives 'INTERPOL')?"""
    if not acronym:
        return True
    if not words:
        return False
    word, rest = words[0], words[1:]
    if word.lower() in _SKIPPED_IN_ACRONYMS:
        return _spells(rest, acronym) or (word[0].upper() == acronym[0] and _spells(rest, acronym[1:]))
    upper = word.upper()
    return any(acronym.startswith(upper[:n]) and _spells(rest, acronym[n:]) for n in range(1, min(len(upper), len(acronym)) + 1))


def expansion_of(acronym: str, sentence: str) -> str | None:
    """The expanded name of `acronym` as the sentence writes it, if any ('Zonal Air, Sea, and Patrol
    Command'): a substring of the sentence, so it can be quoted and cited."""
    matches = list(re.finditer(r"[A-Za-z][\w’'-]*|&", sentence))
    tokens = [m.group(0) for m in matches]
    for start, token in enumerate(tokens):
        if not token[0].isupper() or token.upper() == acronym or token[0] != acronym[0]:
            continue
        for end in range(start + 2, min(len(tokens), start + 2 * len(acronym) + 2) + 1):
            window = tokens[start:end]
            if window[-1].lower() in _SKIPPED_IN_ACRONYMS:
                continue
            if _spells(window, acronym):
                return sentence[matches[start].start():matches[end - 1].end()]
    return None


def expected_type(question: str) -> str | None:
    if asked_acronym(question):
        return "expansion"
    for pattern, kind in _QUESTION_TYPES:
        if pattern.search(question):
            return kind
    return None


_CALENDAR = re.compile(rf"^(?:{_MONTHS}|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)$")


def _novel(candidates: list[str], question_lower: str) -> bool:
    """Some candidate none of whose words the question already contains."""
    question_words = set(re.findall(r"[\w’'-]+", question_lower))
    return any(c and not (set(re.findall(r"[\w’'-]+", c.lower())) & question_words) for c in candidates)


def _names(candidates: list[str]) -> list[str]:
    """Capitalised candidates that are not months or weekdays."""
    cleaned = [c.rstrip(".’'-") for c in candidates]
    return [c for c in cleaned if c and not _CALENDAR.match(c.split()[0])]


_FULL_DATE = re.compile(rf"\b(?:{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}\s+{_MONTHS}\s+\d{{4}}|{_MONTHS}\s+\d{{4}}|(?:early|mid|late)[- ]\d{{4}}s?|\d{{4}}s)\b")
_QUANTITY = re.compile(r"(?:[$€£¥]\s?)?(?<![\w-])\d[\d,.]*(?:\s?(?:%|percent|per cent))?(?:\s(?:thousand|million|billion|trillion))?(?![\w-])"
                       r"|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|dozen)\b", re.I)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[\w’'-]+", text.lower()))


def typed_candidates(sentence: str, kind: str, question: str) -> list[str]:
    """Spans of the sentence of the expected kind that the question doesn't already say, in order."""
    if kind == "expansion":
        acronym = asked_acronym(question)
        found = expansion_of(acronym, sentence) if acronym else None
        return [found] if found else []
    if kind == "date":
        spans = _FULL_DATE.findall(sentence) or _DATE.findall(sentence)
    elif kind == "number":
        spans = [m.group(0) for m in _QUANTITY.finditer(sentence)]
    elif kind == "place":
        spans = _names(_PLACE.findall(sentence))
    elif kind == "person":
        spans = _names(_NAME.findall(sentence))
    else:
        return []
    asked = _words(question)
    return [c.strip() for c in spans if c.strip() and not (_words(c) <= asked)]


def has_type(phrase: str, kind: str) -> bool:
    """Is a short phrase of the kind: a number for "number", a date for "date", a name for "place"
    and "person" (a capitalised word that is not a calendar word), anything for other kinds?"""
    if kind == "number":
        return bool(_QUANTITY.search(phrase) or _NUMBER.search(phrase))
    if kind == "date":  # "1347", "10th and 11th centuries", "8,000 years ago", "autumn"
        return bool(_DATE.search(phrase) or _FULL_DATE.search(phrase) or _DATE_WORDS.search(phrase))
    if kind == "place":
        return is_proper_name(phrase)
    if kind == "person":  # a person or an organisation: "Mara Quillfeather", "the City council"
        return any(t[0].isupper() and t.lower() not in ("the", "a", "an") for t in re.findall(r"[\w’'.&-]+", phrase))
    return True


_DATE_WORDS = re.compile(r"\d|\b(?:centur(?:y|ies)|decades?|spring|summer|autumn|fall|winter|ago|BC|AD|BCE|CE)\b", re.I)


_NAME_CONNECTORS = frozenset({"of", "and", "for", "the", "de", "da", "del", "der", "von", "van", "la", "le", "&", "upon"})


def is_proper_name(phrase: str) -> bool:
    """A name and only a name: capitalised words (an article before, "of"/"and" between), not a
    calendar word: "Lerwick", "Bank of England", "the U.S."; never "The harbour delegation"."""
    tokens = re.findall(r"[\w’'.&-]+", phrase)
    if tokens and tokens[0].lower() in ("the", "a", "an"):
        tokens = tokens[1:]
    if not tokens or len(tokens) > 8 or not tokens[0][0].isupper() or _CALENDAR.match(tokens[0]):
        return False
    return all(t[0].isupper() or t[0].isdigit() or t.lower() in _NAME_CONNECTORS for t in tokens)


def quantity_end(phrase: str) -> int | None:
    """Where the phrase's first quantity ends ("40 billion" in "40 billion of them"), if it has one."""
    match = _QUANTITY.search(phrase) or _NUMBER.search(phrase)
    return match.end() if match else None



def first_typed_span(sentence: str) -> tuple[str, str] | None:
    """(kind, span) of the first thing a question could ask of the sentence: a date, a figure, a
    name after a place preposition, another name; None when it holds none of them."""
    match = _FULL_DATE.search(sentence) or _DATE.search(sentence)
    if match:
        return "date", match.group(0)
    match = _QUANTITY.search(sentence)
    if match and any(ch.isdigit() for ch in match.group(0)):
        return "number", match.group(0)
    match = _PLACE.search(sentence)
    if match:
        return "place", match.group(1)
    match = _NAME.search(sentence)
    if match:
        return "person", match.group(1)
    return None


def offers_type(sentence: str, kind: str, question: str) -> bool:
    """Does the sentence contain something of the expected type that the question doesn't already say?"""
    q = question.lower()
    if kind == "expansion":
        return bool(typed_candidates(sentence, kind, question))
    if kind == "date":
        return any(c.lower() not in q for c in _DATE.findall(sentence))
    if kind == "number":
        return _novel(_NUMBER.findall(sentence), q)
    if kind == "place":
        return _novel(_names(_PLACE.findall(sentence)), q)
    if kind == "person":
        return _novel(_names(_NAME.findall(sentence)), q)
    return False


_COUNTS = {"two": 2, "both": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_COUNTED = re.compile(r"^\s*(?:[\w’',]+\s+){0,3}?(?:what|which|who|name|list)\s+(?:(?:are|were|is|was)\s+)?(?:the\s+)?"
                      r"(two|three|four|five|six|seven|eight|nine|ten|both|several|multiple|some|a few)\b", re.I)
# "What are the steps...", "which were ...": the verb agrees with a plural answer. Not "what are you..."
# and not a naming question ("What are these birds called?" asks for one name).
_PLURAL_VERB = re.compile(r"\b(?:what|which)\s+(?:are|were)\s+(?!you\b|they\b|we\b|i\b|it\b|there\b)", re.I)
_NAMING = re.compile(r"\b(?:called|named|known as)\W*$", re.I)
# "Which countries...", "What steps should I take?": a plural noun after the wh-word. After "what" a word
# in -s is as often a verb ("What carries...", "What causes..."), so there it must be followed by an
# auxiliary ("What benefits does it offer?").
_AUXILIARY = r"(?:do|does|did|are|were|can|could|will|would|should|must|might|may|have|has|had|is|was)"
_PLURAL_WH_NOUN = re.compile(rf"\bwhich\s+(?:(?:other|main|key|different)\s+)?(?!(?:does|goes|has|was|is|this|its|news)\b)[a-z]+[^su\W]s\b"
                             rf"|\bwhat\s+(?:(?:other|main|key|different)\s+)?(?!(?:does|goes|has|was|is|this|its|news)\b)[a-z]+[^su\W]s\s+{_AUXILIARY}\b",
                             re.I)
_LISTING = re.compile(r"^\s*(?:list|name|enumerate)\b", re.I)


def requested_count(question: str) -> int | None:
    """How many things the question asks for: None for one ("Where is X?"), N when it says so ("Name
    the two bodies", "Which three countries", "both"), 0 for several of unknown number ("What are the
    steps...", "On which dates...", "List the ...")."""
    counted = _COUNTED.search(question)
    if counted:
        return _COUNTS.get(counted.group(1).lower(), 0)
    if _NAMING.search(question):
        return None
    if _PLURAL_VERB.search(question) or _PLURAL_WH_NOUN.search(question) or _LISTING.search(question):
        return 0
    return None
