"""Pure HTML rendering of the chat's messages (questions, streamed and finished answers, their sources) and of the
page's one-line notices. The side panels' HTML (corpus, uploads, documents) is `ui.render_panels`, on the same rules.

Every piece of untrusted text (document text, titles, file names, questions, error messages) goes
through `esc()`; the only markup in the output is ours. Output never contains a newline: the chat
renders messages as Markdown, and a single-line HTML block is passed through untouched (a blank
line would end the HTML block and let Markdown loose on document text).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from collections.abc import Sequence
from typing import Any

from assistant.types import Answer, Citation

_MARKER = re.compile(r"\[(\d{1,3})\]")


def esc(text: Any) -> str:
    """Escape text for HTML content and attributes; newlines become <br>."""
    escaped = html.escape("" if text is None else str(text), quote=True)
    return escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def format_date(value: dt.date | None) -> str:
    """A document's date as shown beside it ("undated" for none)."""
    return value.isoformat() if value else "undated"


def _markers(escaped_text: str, known: set[int] | None) -> str:
    """Turn `[n]` into citation badges (only numbers that resolve to a citation, when known)."""

    def badge(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if known is not None and n not in known:
            return match.group(0)
        return f'<sup class="cite cite-{n}" title="Source {n}">[{n}]</sup>'

    return _MARKER.sub(badge, escaped_text)


def _flag_unsupported(escaped_text: str, unsupported: Sequence[str]) -> tuple[str, list[str]]:
    """Wrap each unsupported sentence found in the text; return the ones not found verbatim."""
    missing: list[str] = []
    for sentence in unsupported:
        needle = esc(sentence.strip())
        if needle and needle in escaped_text:
            escaped_text = escaped_text.replace(
                needle,
                f'<span class="unsupported" title="No cited passage supports this sentence">{needle}'
                '<span class="flag">unsupported</span></span>',
                1,
            )
        elif sentence.strip():
            missing.append(sentence.strip())
    return escaped_text, missing


def render_question(question: str) -> str:
    """A user's message, shown literally."""
    return f'<div class="q">{esc(question)}</div>'


def render_streaming(text: str) -> str:
    """An answer while it is still arriving."""
    body = _markers(esc(text), None) if text else '<span class="thinking">Searching the documents…</span>'
    return f'<div class="ans streaming"><div class="ans-text">{body}<span class="caret"></span></div></div>'


def render_stopped(text: str) -> str:
    """An answer stopped while it streamed: the text that had arrived, marked as stopped (it was not saved)."""
    body = _markers(esc(text), None) if text else '<span class="thinking">Stopped before any text arrived.</span>'
    return ('<div class="ans stopped"><div class="stopped-head">Stopped: this answer is incomplete and was not saved'
            f'</div><div class="ans-text">{body}</div></div>')


def _span(passage: str, start: int, end: int, quote: str) -> tuple[int, int] | None:
    if 0 <= start < end <= len(passage):
        return start, end
    if quote:
        found = passage.find(quote)
        if found >= 0:
            return found, found + len(quote)
    return None


def highlight_passage(passage: str, spans: Sequence[tuple[int, int, str]]) -> tuple[str, list[str]]:
    """The passage with each cited span (start, end, quote) in <mark>; a span with bad offsets is
    found by its quote instead. Returns (html, quotes that could not be located)."""
    located: list[tuple[int, int]] = []
    lost: list[str] = []
    for start, end, quote in spans:
        span = _span(passage, start, end, quote)
        if span is None:
            if quote:
                lost.append(quote)
        else:
            located.append(span)
    merged: list[list[int]] = []
    for start, end in sorted(located):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out: list[str] = []
    cursor = 0
    for start, end in merged:
        out.append(f'{esc(passage[cursor:start])}<mark class="span">{esc(passage[start:end])}</mark>')
        cursor = end
    out.append(esc(passage[cursor:]))
    return "".join(out), lost


def group_citations(citations: Sequence[Citation]) -> list[list[Citation]]:
    """One group per source number (and passage): several sentences may cite the same [n]."""
    groups: dict[tuple[int, str], list[Citation]] = {}
    for citation in citations:
        groups.setdefault((citation.n, citation.chunk_id), []).append(citation)
    return [groups[key] for key in sorted(groups)]


def render_citation(group: Sequence[Citation]) -> str:
    """One source: title, date and file in the summary; the passage with its cited spans inside."""
    first = group[0]
    passage, lost = highlight_passage(first.passage, [(c.start, c.end, c.quote) for c in group])
    extra = ""
    if lost:
        quotes = " ".join(f"<q>{esc(q)}</q>" for q in lost)
        extra = f'<div class="not-verbatim">Cited words not found verbatim in this passage: {quotes}</div>'
    support = ""
    scores = [c.support for c in group if c.support is not None]
    if scores:
        support = (f'<span class="support" title="Share of the cited sentence\'s words found in the passage">'
                   f"support {min(scores):.0%}</span>")
    return (
        f'<details class="src src-{first.n}">'
        f'<summary><span class="badge">{first.n}</span>'
        f'<span class="src-title">{esc(first.title or first.source)}</span>'
        f'<span class="src-meta"><span class="src-date">{esc(format_date(first.date))}</span>'
        f'<span class="src-file">{esc(first.source)}</span>{support}</span></summary>'
        f'<div class="passage">{passage}</div>{extra}</details>'
    )


def render_sources(citations: Sequence[Citation]) -> str:
    groups = group_citations(citations)
    if not groups:
        return ""
    items = "".join(render_citation(g) for g in groups)
    label = "Source" if len(groups) == 1 else f"Sources ({len(groups)})"
    return f'<div class="sources"><div class="sources-head">{label} · click to see the cited passage</div>{items}</div>'


def render_answer(answer: Answer, *, restored: bool = False) -> str:
    """A finished answer: text with [n] badges, flags, notes, abstention styling, and its sources.
    `restored`: the answer is shown again from a saved chat; it renders the same, marked as restored."""
    kind, body = _answer_body(answer)
    marker = " restored" if restored else ""
    return (f'<div class="ans {kind}{marker}">{body}{_render_meta(answer, restored)}{_render_search(answer)}'
            f'<div class="ans-actions" data-turn="{answer_key(answer.question, answer.text)}">{COPY_BUTTON}</div></div>')


def answer_key(question: str, text: str) -> str:
    """Which kept answer a chat message shows (a Turn's question and answer, or its Answer's question and text):
    a rating names its answer by this, never by its place in the chat alone (ui.feedback)."""
    return hashlib.sha256(f"{question}\0{text}".encode()).hexdigest()[:16]


# A finished answer's Copy button: the page's script (ui.theme.HEAD_JS) copies that answer's text, [n] markers
# included. No inline handler: the chat's sanitizer would strip it, and a delegated listener survives re-renders.
COPY_BUTTON = ('<button type="button" class="copy-answer" title="Copy this answer\'s text with its [n] source '
               'markers">Copy</button>')


def _answer_body(answer: Answer) -> tuple[str, str]:
    """(the answer's class, its inner HTML without the meta line)."""
    if answer.kind == "small_talk":  # a plain reply (greeting, inventory...): its lines kept, no sources
        lines = "<br>".join(esc(line) for line in answer.text.split("\n"))
        return "small-talk", f'<div class="ans-text">{lines}</div>'
    if answer.kind == "clarification":  # a question back, naming the candidate documents with their sources
        text = _markers(esc(answer.text), {c.n for c in answer.citations})
        return "clarification", (f'<div class="clarify-head">Which one do you mean?</div>'
                                 f'<div class="ans-text">{text}</div>{render_sources(answer.citations)}')
    if answer.abstained:
        return "abstain", ('<div class="abstain-head">Not found in the documents</div>'
                           f'<div class="ans-text">{esc(answer.text)}</div>'
                           '<div class="hint">Try rephrasing, widening the filters, or uploading a document that covers it.</div>'
                           f"{_render_notes(answer.notes)}")
    text, missing = _flag_unsupported(esc(answer.text), answer.unsupported)
    text = _markers(text, {c.n for c in answer.citations})
    short = f'<div class="short-answer"><strong>{esc(answer.short_answer)}</strong></div>' if answer.short_answer else ""
    parts = [f'{short}<div class="ans-text">{text}</div>']
    flagged = len(answer.unsupported)
    if flagged:
        noun = "sentence is" if flagged == 1 else "sentences are"
        listing = "".join(f"<li>{esc(s)}</li>" for s in missing)
        parts.append(f'<div class="warn unsupported-note">⚠ {flagged} generated {noun} not supported by the cited '
                     f'sources and flagged.{"<ul>" + listing + "</ul>" if listing else ""}</div>')
    parts.append(_render_notes(answer.notes))
    parts.append(render_sources(answer.citations))
    return "answered", "".join(parts)


def _render_notes(notes: Sequence[str]) -> str:
    return '<ul class="notes">' + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>" if notes else ""


def _render_meta(answer: Answer, restored: bool) -> str:
    """Who answered, in how long, how sure: one quiet line (a saved answer keeps no timings)."""
    facts = [esc(answer.answerer)] if answer.answerer else []
    total = answer.timings.get("total")
    if total is not None:
        facts.append(f"{total:.2f} s")
    if answer.confidence is not None and answer.kind == "answer":
        facts.append(f'<span class="confidence" title="Estimated probability that the cited passages support this '
                     f'answer">confidence {answer.confidence:.0%}</span>')
    if restored:
        facts.append("restored from saved chat")
    return f'<div class="meta">{" · ".join(facts)}</div>'


def _render_search(answer: Answer) -> str:
    """A follow-up's standalone question is the search engine's input, not prose: it stays folded away."""
    searched = answer.standalone_question
    if not searched or searched == answer.question:
        return ""
    return ('<details class="rewritten"><summary>How it was searched</summary><div class="searched">'
            f"Searched the documents for “{esc(searched)}” (the question with words from earlier in the chat)"
            "</div></details>")


def render_error(message: str) -> str:
    """An error in place of an answer (the conversation goes on)."""
    return f'<div class="ans failed"><div class="error-head">Could not answer</div><div class="ans-text">{esc(message)}</div></div>'


def render_notice(message: str, kind: str = "error") -> str:
    """A one-line message under the input box or upload area; empty message -> nothing."""
    if not message:
        return ""
    kind = kind if kind in {"error", "info", "ok"} else "error"
    role = "alert" if kind == "error" else "status"
    return f'<div class="notice notice-{kind}" role="{role}">{esc(message)}</div>'
