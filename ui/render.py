"""Pure HTML rendering of questions, answers, sources and corpus facts for the web page.

Every piece of untrusted text (document text, titles, file names, questions, error messages) goes
through `esc()`; the only markup in the output is ours. Output never contains a newline: the chat
renders messages as Markdown, and a single-line HTML block is passed through untouched (a blank
line would end the HTML block and let Markdown loose on document text).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from assistant.types import Answer, Citation

if TYPE_CHECKING:  # typing only: rendering stays free of the loaders assistant.ingest.uploads brings in
    from assistant.ingest.uploads import UploadedDocument

_MARKER = re.compile(r"\[(\d{1,3})\]")
_WHITESPACE_RUN = re.compile(r"[ \t\r\f\v]+")


def esc(text: Any) -> str:
    """Escape text for HTML content and attributes; newlines become <br>."""
    escaped = html.escape("" if text is None else str(text), quote=True)
    return escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def _date(value: dt.date | None) -> str:
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
        f'<span class="src-meta"><span class="src-date">{esc(_date(first.date))}</span>'
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
            f"{COPY_BUTTON}</div>")


# A finished answer's Copy button: the page's script (ui.theme.HEAD_JS) copies that answer's text, [n] markers
# included. No inline handler: the chat's sanitizer would strip it, and a delegated listener survives re-renders.
COPY_BUTTON = ('<div class="ans-actions"><button type="button" class="copy-answer" title="Copy this answer\'s text '
               'with its [n] source markers">Copy</button></div>')


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


def render_corpus(info: Mapping[str, Any], documents: Iterable[tuple[str, str, dt.date | None]],
                  chunks: Mapping[str, int] | None = None) -> str:
    """What is loaded: counts, embedding model, store, and the list of documents (with each one's chunks
    when `chunks`, by source, is given)."""
    docs = sorted(documents, key=lambda d: (d[2] is None, d[2] or dt.date.min, d[0]), reverse=False)
    rows = [
        ("Documents", info.get("documents", len(docs))),
        ("Chunks", info.get("chunks", 0)),
        ("Embedding model", info.get("embedding_model", "")),
        ("Store", info.get("store", "")),
        ("Collection", info.get("collection", "")),
    ]
    table = "".join(f'<tr><th>{esc(k)}</th><td class="corpus-{esc(str(k).lower().replace(" ", "-"))}">{esc(v)}</td></tr>'
                    for k, v in rows)

    def counted(source: str) -> str:
        if chunks is None or source not in chunks:
            return ""
        n = chunks[source]
        return f' · <span class="doc-chunks">{n} chunk{"" if n == 1 else "s"}</span>'

    items = "".join(
        f'<li class="corpus-doc"><span class="doc-title">{esc(title or source)}</span>'
        f'<span class="doc-meta"><span class="doc-date">{esc(_date(date))}</span> · '
        f'<span class="doc-source">{esc(source)}</span>{counted(source)}</span></li>'
        for source, title, date in docs
    )
    listing = f'<details class="doc-list"><summary>Show documents</summary><ul>{items}</ul></details>' if items else ""
    return f'<div class="corpus"><table>{table}</table>{listing}</div>'


def render_upload_result(indexed: Sequence[str], refused: Sequence[tuple[str, str]], summary: str = "", *,
                         askable: bool = True) -> str:
    """After an upload: what was added and, for each refused file, why (nothing else changed).
    `askable`: the files went to the collection the chat answers from."""
    parts: list[str] = []
    if indexed:
        names = ", ".join(esc(n) for n in indexed)
        next_step = "You can ask about them now." if askable else "This chat answers from another collection."
        parts.append(f'<div class="notice notice-ok" role="status">Indexed {len(indexed)} file(s): {names}. '
                     f"{next_step}</div>")
    for name, reason in refused:
        parts.append(f'<div class="notice notice-error" role="alert">{esc(name)}: {esc(reason)}</div>')
    if refused and not indexed:
        parts.append('<div class="notice notice-info" role="status">Nothing was added; the documents already indexed are unchanged.</div>')
    if summary:
        parts.append(f'<div class="upload-summary">{esc(summary)}</div>')
    return "".join(parts)


def render_progress(message: str, done: int, total: int) -> str:
    """Upload progress: a bar and a line of text."""
    pct = 0 if total <= 0 else max(0, min(100, round(100 * done / total)))
    return (f'<div class="progress" role="progressbar" aria-valuenow="{pct}" aria-valuemin="0" aria-valuemax="100">'
            f'<div class="progress-bar" style="width:{pct}%"></div></div><div class="progress-text">{esc(message)}</div>')


# -- the document panel: uploaded documents of the chosen collection ---------------------------------

def format_size(size: int) -> str:
    """Bytes as people read them: 532 B, 12 KB, 1.3 MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def format_modified(modified: str) -> str:
    """An ISO 8601 UTC time as 'YYYY-MM-DD HH:MM UTC' (shown as given when it is not one)."""
    try:
        when = dt.datetime.fromisoformat(modified)
    except ValueError:
        return modified
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    return f"{when:%Y-%m-%d %H:%M} UTC"


def _document_row(row: UploadedDocument, *, deleting: bool, confirming: bool) -> str:
    noun = "chunk" if row.chunks == 1 else "chunks"
    reason = esc(row.quarantined)
    badge = f'<span class="doc-badge quarantined" title="{reason}">quarantined: {reason}</span>' if row.quarantined else ""
    state = ""
    if deleting:
        state = '<span class="doc-state deleting" role="status"><span class="spinner"></span>Deleting…</span>'
    elif confirming:
        state = '<span class="doc-state confirming">Confirm delete?</span>'
    classes = "doc-row" + (" deleting" if deleting else "") + (" confirming" if confirming else "")
    return (f'<li class="{classes}" data-name="{esc(row.name)}"><span class="doc-name">{esc(row.name)}</span>{state}'
            f'<span class="doc-facts"><span class="doc-size">{esc(format_size(row.size))}</span> · '
            f'<span class="doc-date">{esc(format_modified(row.modified))}</span> · '
            f'<span class="doc-chunks">{row.chunks} {noun}</span></span>{badge}</li>')


def render_documents(rows: Sequence[UploadedDocument], collection: str, *, deleting: str | None = None,
                     confirming: str | None = None, progress: str = "") -> str:
    """The collection's uploaded documents: name, size, date, chunks, and a badge for a quarantined one.
    `deleting` / `confirming` mark the row a delete is running on / waiting for confirmation of;
    `progress` is the running delete's latest step."""
    head = f'<div class="docs-head">Uploaded to <span class="docs-collection">{esc(collection)}</span></div>'
    if not rows:
        return (f'<div class="docs">{head}<div class="docs-empty">No uploaded documents in this collection yet; '
                "add some with the file box above.</div></div>")
    items = "".join(_document_row(r, deleting=r.name == deleting, confirming=r.name == confirming) for r in rows)
    step = f'<div class="docs-progress progress-text">{esc(progress)}</div>' if progress and deleting else ""
    return f'<div class="docs">{head}<ul class="doc-rows">{items}</ul>{step}</div>'
