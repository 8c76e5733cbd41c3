"""A conversation as a Markdown document: each question, its answer, and under it the numbered
sources with title, file, date and the quoted span. Pure: turns in, text out.

    Path("chat.md").write_text(chat_markdown(session.history, title="Release planning"), encoding="utf-8")
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from assistant.types import Citation, Turn

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|])")
_SLUG_DROP = re.compile(r"[^a-z0-9]+")


def chat_markdown(turns: Sequence[Turn], *, title: str = "", exported: dt.datetime | None = None) -> str:
    """The chat as Markdown. Questions and titles are escaped so that they show literally; answers keep
    their `[n]` markers, which point at the numbered sources listed under each answer."""
    heading = _inline(title) if title.strip() else "Conversation"
    lines = [f"# {heading}", ""]
    if exported is not None:
        lines += [f"Exported {exported.strftime('%Y-%m-%d %H:%M')} UTC · {len(turns)} question(s)", ""]
    for i, turn in enumerate(turns, 1):
        lines += [f"## {i}. {_inline(turn.question)}", ""]
        if turn.standalone_question and turn.standalone_question.strip() != turn.question.strip():
            lines += [f"*Searched for: {_inline(turn.standalone_question)}*", ""]
        lines += [_block(turn.answer) or "*(no answer)*", ""]
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
    return "\n".join(lines).rstrip() + "\n"


def markdown_filename(title: str, *, default: str = "chat") -> str:
    """A safe file name for the export: lower-case words joined by '-', at most 60 characters, '.md'."""
    slug = _SLUG_DROP.sub("-", title.lower()).strip("-")[:60].rstrip("-")
    return f"{slug or default}.md"


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
