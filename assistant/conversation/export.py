"""A conversation as a Markdown document: each question, its answer, and under it the numbered
sources with title, file, date and the quoted span, then the reader's feedback when given.
Pure: turns in, text out.

    Path("chat.md").write_text(chat_markdown(session.history, title="Release planning"), encoding="utf-8")
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence

from assistant.types import Citation, Turn

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|])")
_SLUG_DROP = re.compile(r"[^a-z0-9]+")
_SLUG_MAX = 60
_RESERVED_NAMES = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))})


def chat_markdown(turns: Sequence[Turn], *, title: str = "", exported: dt.datetime | None = None) -> str:
    """The chat as Markdown. Questions and titles are escaped so that they show literally; answers keep
    their `[n]` markers, which point at the numbered sources listed under each answer. Each answer carries
    what the page showed with it: kind, short answer, flagged sentences, notes, confidence and sources, then the
    reader's thumbs up/down and comment when they gave one."""
    heading = _inline(title) if title.strip() else "Conversation"
    lines = [f"# {heading}", ""]
    if exported is not None:
        lines += [f"Exported {exported.strftime('%Y-%m-%d %H:%M')} UTC · {len(turns)} question(s)", ""]
    for i, turn in enumerate(turns, 1):
        lines += [f"## {i}. {_inline(turn.question)}", ""]
        if turn.standalone_question and turn.standalone_question.strip() != turn.question.strip():
            lines += [f"*Searched for: {_inline(turn.standalone_question)}*", ""]
        lines += _answer_lines(turn)
        groups = _by_number(turn.citations)
        if groups:
            lines += ["**Sources**", ""]
            for n, group in groups:
                first = group[0]
                date = first.date.isoformat() if first.date else "undated"
                name = _inline(first.title or first.source)
                lines.append(f"{n}. **{name}** — `{_code(first.source)}`, {date}")
                for quote in dict.fromkeys(c.quote for c in group if c.quote.strip()):
                    lines.append("   > " + _inline(quote))
            lines.append("")
        if turn.feedback is not None:  # the reader's verdict, after what it judges
            said = f" — {_inline(turn.feedback.comment)}" if turn.feedback.comment.strip() else ""
            lines += [f"Feedback: {_THUMBS[turn.feedback.rating]}{said}", ""]
    return "\n".join(lines).rstrip() + "\n"


def _answer_lines(turn: Turn) -> list[str]:
    """The answer as the page showed it, before its sources."""
    lines: list[str] = []
    if turn.kind in _HEADS:
        lines += [f"**{_HEADS[turn.kind]}**", ""]
    if turn.short_answer and turn.kind == "answer":
        lines += [f"**Short answer: {_inline(turn.short_answer)}**", ""]
    lines += [_block(turn.answer) or "*(no answer)*", ""]
    if turn.unsupported:
        lines += ["**Not supported by the cited sources (flagged)**", ""]
        lines += [f"- {_inline(s)}" for s in turn.unsupported] + [""]
    if turn.notes:
        lines += ["**Notes**", ""] + [f"- {_inline(n)}" for n in turn.notes] + [""]
    if turn.confidence is not None and turn.kind == "answer":
        lines += [f"*Confidence: {turn.confidence:.0%}*", ""]
    return lines


_THUMBS = {"up": "👍", "down": "👎"}
_HEADS = {"abstention": "Not found in the documents", "clarification": "Which one do you mean?"}


def markdown_filename(title: str, *, default: str = "chat") -> str:
    """A safe file name for the export: whole lower-case ASCII words joined by '-', cut at a word boundary
    to at most 60 characters, '.md'; `default` when no word is left."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii").lower()
    slug = ""
    for word in _SLUG_DROP.split(folded):
        if not word:
            continue
        longer = f"{slug}-{word}" if slug else word
        if len(longer) > _SLUG_MAX:
            slug = slug or word[:_SLUG_MAX]  # one word longer than the limit: its start, rather than nothing
            break
        slug = longer
    if not slug or slug in _RESERVED_NAMES:  # e.g. "con.md" cannot be saved on Windows
        slug = f"{default}-{slug}" if slug else default
    return f"{slug}.md"


def _by_number(citations: Sequence[Citation]) -> list[tuple[int, list[Citation]]]:
    groups: dict[int, list[Citation]] = {}
    for citation in citations:
        groups.setdefault(citation.n, []).append(citation)
    return sorted(groups.items())


def _inline(text: str) -> str:
    """One line of text that Markdown shows literally (no markup, no HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _block(text: str) -> str:
    """An answer: its paragraphs kept, HTML and headings neutralised, `[n]` markers left readable."""
    out: list[str] = []
    for line in text.strip().splitlines():
        escaped = _MD_SPECIAL.sub(r"\\\1", line.rstrip())
        out.append(re.sub(r"\\\[(\d{1,3})\\\]", r"[\1]", escaped))
    return "\n".join(out)


def _code(text: str) -> str:
    return text.replace("`", "'")
