"""Small talk and meta turns: greetings, thanks, goodbyes, "what can you do?", "what documents do
you have?". They are answered without retrieval, never as an abstention.

A turn counts as small talk only when the WHOLE turn is made of such phrases (plus polite filler
like "please", "ok", "there"): "thanks, and when was the summit?" or "what documents did the council
adopt?" hold a real question and go to retrieval. General English only, no corpus words."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

SmallTalkKind = Literal["greeting", "thanks", "goodbye", "capabilities", "inventory"]

# When one turn holds several phrases ("hi, what can you do?") the most informative reply wins.
_PRIORITY: tuple[SmallTalkKind, ...] = ("inventory", "capabilities", "goodbye", "thanks", "greeting")

_DOCS = r"(?:documents?|docs?|files?|sources?|texts?|articles?|papers?|pages?|records?|data)"
_COLLECTION = r"(?:collection|index|corpus|library|knowledge base|database|archive|dataset|data set)"
_HAVE = (r"(?:(?:do )?you have|have you got|you've got|are (?:there|indexed|available|loaded|stored)|"
         rf"are (?:there )?in (?:the|your|this) {_COLLECTION}|can you see|do you know(?: about)?|"
         r"(?:do|did|have) you (?:read|indexed|index|use|using)|are you using|(?:can|could) i ask about|"
         r"can you (?:search|answer from))")

_PHRASES: dict[SmallTalkKind | None, tuple[str, ...]] = {
    "greeting": (
        r"hi+", r"hello+", r"hey+", r"hiya", r"howdy", r"greetings", r"yo", r"heya",
        r"good (?:morning|afternoon|evening|day)",
        r"how are you(?: doing)?(?: today)?", r"how is it going", r"how are things", r"what is up", r"sup",
        r"nice to meet you", r"pleased to meet you",
    ),
    "thanks": (
        r"thanks?", r"thank you", r"thanks a (?:lot|bunch|million)", r"thank you (?:so|very) much",
        r"thanks (?:so|very) much", r"many thanks", r"thx", r"ty", r"tysm", r"cheers",
        r"(?:much|greatly) appreciated", r"(?:i )?appreciate (?:it|that|your help)",
        r"(?:that|this) (?:helps|helped|is (?:very |really )?helpful|was (?:very |really )?helpful)",
        r"(?:very |really )?helpful", r"great", r"perfect", r"awesome", r"excellent", r"wonderful", r"got it",
        r"(?:that is|that was) (?:great|perfect|useful)", r"good (?:job|answer)", r"nice",
    ),
    "goodbye": (
        r"bye", r"bye bye", r"goodbye", r"good bye", r"good night", r"farewell", r"see (?:you|ya)(?: later| soon)?",
        r"cya", r"later", r"take care", r"that is (?:all|it)(?: for now)?", r"i am done", r"have a (?:good|nice|great) (?:day|one|evening|night)",
    ),
    "capabilities": (
        r"what (?:can|could) you do(?: for me)?", r"what do you do", r"what are you(?: for)?", r"who are you",
        r"what are you able to do", r"what are your (?:capabilities|skills|features)",
        r"what (?:can|should|could) i ask(?: you)?", r"what kind of questions can (?:i ask|you answer)",
        r"how do (?:i use|you work)(?: this| you)?", r"how does (?:this|it) work", r"how can you help(?: me)?",
        r"help", r"help me", r"i need (?:some )?help", r"can you help(?: me)?",
        r"introduce yourself", r"tell me about yourself",
    ),
    "inventory": (
        rf"(?:what|which) {_DOCS}(?: do)? {_HAVE}",
        rf"what is in (?:the|your|this) {_COLLECTION}", rf"what (?:does|is in) (?:the|your|this) {_COLLECTION}(?: contain| hold)?",
        rf"what (?:are|is) your {_DOCS}", rf"what {_COLLECTION} is this", r"what do you know(?: about)?",
        rf"what (?:are|is) (?:indexed|in the {_COLLECTION})", r"what have you (?:read|indexed)",
        rf"list (?:the |your |all |all the |all your )?{_DOCS}", rf"show (?:me )?(?:the |your |all )?{_DOCS}",
        rf"how many {_DOCS}(?: do)? {_HAVE}", rf"how many {_DOCS}",
    ),
    # Polite filler and lead-ins: allowed around the phrases above, never small talk alone.
    None: (
        r"please", r"pls", r"kindly", r"ok", r"okay", r"so", r"well", r"oh", r"ah", r"um+", r"uh+", r"hmm+",
        r"and", r"again", r"there", r"all", r"everyone", r"assistant", r"bot", r"friend", r"buddy", r"mate",
        r"then", r"just", r"now", r"very much", r"so much", r"a lot", r"for (?:that|this|the (?:help|answer|info))",
        r"(?:can|could|would|will) you(?: please)?(?: tell me| show me)?", r"tell me", r"show me",
        r"let me know", r"i (?:want|would like) to know", r"i wonder", r"i was wondering",
    ),
}
_COMPILED = {kind: re.compile("|".join(f"(?:{p})" for p in patterns)) for kind, patterns in _PHRASES.items()}

# Contractions spelt out, so a pattern names each form once ("what's", "whats" -> "what is").
_CONTRACTIONS = {
    "what's": "what is", "whats": "what is", "how's": "how is", "hows": "how is", "that's": "that is",
    "thats": "that is", "i'm": "i am", "im": "i am", "i'd": "i would", "you're": "you are", "wassup": "what is up",
    "whatsup": "what is up", "thank-you": "thank you", "thankyou": "thank you",
}


def _normalise(message: str) -> str:
    text = message.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"[^a-z0-9'\- ]+", " ", text)
    tokens = [t.strip("'-") for t in text.split()]
    return " ".join(_CONTRACTIONS.get(t, t) for t in tokens if t)


def _phrase_at(text: str, pos: int) -> tuple[SmallTalkKind | None, int] | None:
    """The longest phrase (any kind) that starts at `pos` and ends at a word boundary."""
    best: tuple[SmallTalkKind | None, int] | None = None
    for kind, pattern in _COMPILED.items():
        for end in _ends(pattern, text, pos):
            if best is None or end > best[1]:
                best = (kind, end)
    return best


def _ends(pattern: re.Pattern[str], text: str, pos: int) -> Sequence[int]:
    # Alternation takes the first alternative that matches, not the longest: try each prefix end.
    ends = []
    for boundary in [m.start() for m in re.finditer(" ", text[pos:])] + [len(text) - pos]:
        if pattern.fullmatch(text, pos, pos + boundary):
            ends.append(pos + boundary)
    return ends


def classify(message: str) -> SmallTalkKind | None:
    """The kind of small talk `message` is, or None when it holds anything else (a real question)."""
    text = _normalise(message)
    kinds: set[SmallTalkKind] = set()
    pos = 0
    while pos < len(text):
        found = _phrase_at(text, pos)
        if found is None:
            return None
        kind, end = found
        if kind is not None:
            kinds.add(kind)
        pos = end + 1  # past the space after the phrase
    return next((k for k in _PRIORITY if k in kinds), None)


_MAX_TITLES_LISTED = 10

_CAN_DO = ("I answer questions from the indexed documents: every answer quotes the passages it relies on and "
           "cites their source, and when the documents don't hold the answer I say so instead of guessing. "
           "You can ask follow-up questions (\"who leads it?\", \"and when?\") and I read them in the light of "
           "the conversation.")


def reply(kind: SmallTalkKind, *, collection: str, titles: Sequence[str]) -> str:
    """The friendly reply to a small-talk turn. `titles`: the indexed documents' titles (inventory)."""
    if kind == "greeting":
        return ("Hello! I answer questions about the documents in this collection, with cited passages, "
                "and I tell you when they don't hold the answer. Ask me anything about them, or ask "
                "\"what documents do you have?\" to see what is indexed.")
    if kind == "thanks":
        return "You're welcome! Ask another question about the documents whenever you like."
    if kind == "goodbye":
        return "Goodbye! Come back any time with more questions about the documents."
    if kind == "capabilities":
        return f"{_CAN_DO} Ask \"what documents do you have?\" to see what is indexed."
    return inventory_reply(collection, titles)


def inventory_reply(collection: str, titles: Sequence[str]) -> str:
    if not titles:
        return (f"No documents are indexed in collection {collection!r} yet. Index a folder with "
                "`assistant index --corpus PATH` or upload files, then ask me about them.")
    count = len(titles)
    noun = "document" if count == 1 else "documents"
    shown = sorted(titles, key=str.lower)[:_MAX_TITLES_LISTED]
    head = f"Collection {collection!r} holds {count} {noun}"
    head += ":" if count <= _MAX_TITLES_LISTED else f"; the first {len(shown)} by title:"
    return "\n".join([head, *(f"- {title}" for title in shown)])
