"""The Collection switcher: lists the store's built collections; the one chosen is what this browser's chat answers
from, what the corpus panel, the sources filter and the Documents panel describe, and where uploads go. The choice is
per browser session (it is this page's component value, so other users are not moved) and remembered in the browser
(ui.collection_memory), so that a reload keeps it."""

from __future__ import annotations

from typing import Any

import gradio as gr

from assistant.engine_pool import EnginePool
from assistant.errors import AssistantError
from ui import collection_memory, render
from ui.corpus_panel import CorpusPanel
from ui.documents_panel import DocumentControls, DocumentsPanel


class CollectionSwitcher:
    """Moving the switcher, and setting it when the page loads; the corpus and documents panels follow it."""

    def __init__(self, pool: EnginePool, corpus: CorpusPanel, documents: DocumentsPanel) -> None:
        self.pool, self.corpus, self.documents = pool, corpus, documents

    def switch_collection(self, collection: str | None, selected: list[str] | None) -> tuple[Any, ...]:
        """The switcher moved: this browser's next question, the corpus panel and the documents follow it; the browser
        remembers it (in the same update, so that a reload right after keeps it)."""
        where = collection or self.pool.served
        said = render.render_notice(f"Questions in this browser are now answered from collection {where}.", "info")
        return (*self.corpus.corpus_view(collection, selected), *self.documents.doc_panel(collection, None), said,
                collection_memory.remember(collection))

    def open_documents(self, remembered: object) -> tuple[Any, ...]:
        """On load: the collections (new ones may have been built since the page was made), and the one this browser
        chose before (ui.collection_memory; the served one when it is gone) with its corpus facts and documents."""
        pool = self.pool
        try:
            names = pool.collections()
        except AssistantError as err:
            problem = render.render_notice(str(err))
            return (gr.Dropdown(choices=[pool.served], value=pool.served), *self.corpus.corpus_view(None, None),
                    *self.documents.doc_panel(None, None, problem), "", gr.skip())
        back = collection_memory.restore(remembered, names, pool.served)
        name = None if back.collection == pool.served else back.collection
        return (gr.Dropdown(choices=names, value=back.collection), *self.corpus.corpus_view(name, None),
                *self.documents.doc_panel(name, None), render.render_notice(back.notice, "info"), back.remember)

    def wire(self, *, collection: gr.Dropdown, remembered: gr.BrowserState, corpus: gr.HTML, sources: gr.Dropdown,
             documents: DocumentControls, notice: gr.HTML) -> None:
        shown = [corpus, sources, *documents.outputs, notice, remembered]
        collection.input(self.switch_collection, [collection, sources], shown, show_progress="hidden")

    def wire_load(self, demo: gr.Blocks, *, collection: gr.Dropdown, remembered: gr.BrowserState, corpus: gr.HTML,
                  sources: gr.Dropdown, documents: DocumentControls, notice: gr.HTML) -> None:
        """The page's load sets the switcher (a load of its own, beside the chats' one: ui.chat_persistence)."""
        shown = [corpus, sources, *documents.outputs, notice, remembered]
        demo.load(self.open_documents, [remembered], [collection, *shown], show_progress="hidden")
