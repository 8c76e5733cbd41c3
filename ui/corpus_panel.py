"""The Corpus panel and the sources filter of the collection this browser chose in the switcher: its facts (counts,
embedding model, store) and documents (title, date, source and chunks of each, read from its manifest, so that a
collection is described without loading its index). Also what the switcher's value means to the engine pool, which
the chat, the documents and the uploads share."""

from __future__ import annotations

import datetime as dt
from typing import Any

import gradio as gr

from assistant.documents import DocumentRow, collection_documents
from assistant.engine import AnswerEngine
from assistant.engine_pool import EnginePool
from assistant.errors import AssistantError
from assistant.index.status import collection_info
from ui import render
from ui.render_panels import render_corpus


def source_choices(rows: list[DocumentRow]) -> list[tuple[str, str]]:
    """The sources filter's (label, value) pairs: by source, as the manifest lists them."""
    def label(source: str, title: str) -> str:
        short = title if len(title) <= 60 else title[:57].rstrip() + "…"
        return f"{short} ({source})" if title else source

    return [(label(row.source, row.title), row.source) for row in rows]


def as_date(value: str | None) -> dt.date | None:
    """A manifest's ISO date; None for none (or one an older index wrote in another form)."""
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def kept_sources(selected: list[str] | None, choices: list[tuple[str, str]]) -> list[str]:
    """The filter's chosen sources that still exist: a deleted one left chosen would make Gradio refuse
    the next question (a dropdown's value must be one of its choices)."""
    known = {value for _, value in choices}
    return [source for source in selected or [] if source in known]


class CorpusPanel:
    """The chosen collection as the pool knows it, and the panel and filter that describe it."""

    def __init__(self, pool: EnginePool) -> None:
        self.pool = pool

    def chosen(self, collection: str | None) -> str | None:
        """The switcher's collection as the pool keys it (None: the served one). Naming another checks it still
        exists (IndexMissingError naming those that do); it is never built by being chosen."""
        if not collection or collection == self.pool.served:
            return None
        self.pool.collection(collection)
        return collection

    def engine_of(self, collection: str | None, answerer: str | None = None) -> AnswerEngine:
        name = self.chosen(collection)
        return self.pool.get(name, answerer, auto_index=False if name else None)

    def corpus_view(self, collection: str | None = None, selected: list[str] | None = None) -> tuple[Any, ...]:
        """(the Corpus panel's HTML, the sources filter) for `collection`; the filter keeps the chosen sources that
        still exist."""
        pool = self.pool
        try:
            engine = self.engine_of(collection)
            info = pool.info() if engine is pool.primary else collection_info(engine.settings, engine.store)
            rows = collection_documents(engine.settings, existing=pool.collections(), say_where=False)
            choices = source_choices(rows)
            html = render_corpus(info, [(r.source, r.title, as_date(r.date)) for r in rows],
                                 {r.source: r.chunks for r in rows})
            return html, gr.Dropdown(choices=choices, value=kept_sources(selected, choices))
        except AssistantError as err:
            return render.render_notice(str(err)), gr.Dropdown(choices=[], value=[])
