"""Pure HTML of the side panels: the corpus facts of the chosen collection, an upload's result and progress, and
the Documents panel's list of uploaded documents. The same rules as `ui.render`: every untrusted text goes through
`esc()`, and the output is one line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ui.render import esc, format_date

if TYPE_CHECKING:  # typing only: rendering stays free of the loaders assistant.ingest.uploads brings in
    from assistant.ingest.uploads import UploadedDocument


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
        f'<span class="doc-meta"><span class="doc-date">{esc(format_date(date))}</span> · '
        f'<span class="doc-source">{esc(source)}</span>{counted(source)}</span></li>'
        for source, title, date in docs
    )
    listing = f'<details class="doc-list"><summary>Show documents</summary><ul>{items}</ul></details>' if items else ""
    return f'<div class="corpus"><table>{table}</table>{listing}</div>'


def render_upload_result(indexed: Sequence[str], refused: Sequence[tuple[str, str]], summary: str = "", *,
                         replaced: Sequence[str] = (), same: Sequence[str] = (), askable: bool = True) -> str:
    """After an upload: what was added (`indexed`: new names; `replaced`: names that replaced an earlier upload of
    the same name; `same`: files identical to what was already indexed) and, for each refused file, why.
    `askable`: the files went to the collection the chat answers from."""
    parts: list[str] = []
    next_step = "You can ask about them now." if askable else "This chat answers from another collection."
    if indexed:
        names = ", ".join(esc(n) for n in indexed)
        parts.append(f'<div class="notice notice-ok" role="status">Indexed {len(indexed)} file(s): {names}. '
                     f"{next_step}</div>")
    if replaced:
        names = ", ".join(esc(n) for n in replaced)
        parts.append(f'<div class="notice notice-ok" role="status">Replaced {len(replaced)} earlier upload(s) of the '
                     f"same name with the new file: {names}. {next_step if not indexed else ''}</div>")
    if same:
        names = ", ".join(esc(n) for n in same)
        parts.append(f'<div class="notice notice-info" role="status">Already indexed, unchanged: {names} (the same '
                     "file was uploaded before).</div>")
    for name, reason in refused:
        parts.append(f'<div class="notice notice-error" role="alert">{esc(name)}: {esc(reason)}</div>')
    if refused and not (indexed or replaced or same):
        parts.append('<div class="notice notice-info" role="status">Nothing was added; the documents already indexed are unchanged.</div>')
    if summary and (indexed or replaced):
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
