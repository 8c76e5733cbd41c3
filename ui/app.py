"""The Gradio page: chat with streamed, cited answers; saved chats; settings; corpus facts; uploaded documents.

This module only assembles the page: it makes each panel's handlers, lays the components out (ui.layout) and wires
the panels' events, in an order that matters where two handlers share a trigger (the page's two loads) or must
follow one another. One ChatSession per browser session lives in a gr.State (ui.state); the engines (model, index)
are shared through the library's EnginePool. The page's launcher (ui.server) sets the offline environment before
this module, and gradio, load.

The panels, each in its own module: the chat column (ui.chat_panel), chats that last (ui.chat_persistence) and their
search, rename and delete (ui.chats), ratings (ui.feedback), the collection switcher (ui.collection_switcher), the
corpus facts (ui.corpus_panel), the Documents panel (ui.documents_panel) and its file box (ui.upload_panel), the
Settings (ui.settings_panel) and Model server (ui.model_server) panels."""

from __future__ import annotations

from typing import Any

import gradio as gr

from assistant.conversation.saved import ChatStore
from assistant.engine_pool import EnginePool
from ui import chats as saved_chats
from ui import feedback, model_server
from ui.chat_panel import ChatPanel
from ui.chat_persistence import ChatPersistence, browser_secret
from ui.collection_switcher import CollectionSwitcher
from ui.corpus_panel import CorpusPanel
from ui.documents_panel import DocumentsPanel
from ui.layout import build_page
from ui.theme import CSS, HEAD_JS, make_theme
from ui.upload_panel import UploadPanel


def build_app(pool: EnginePool) -> gr.Blocks:
    """The page, wired to `pool`. `ui.server.start()` launches it with `launch_options()`."""
    settings = pool.settings
    store = ChatStore.for_settings(settings)
    secret, store_problem = browser_secret(store)
    saved = saved_chats.SavedChats(store, store_problem, lambda: pool.primary)
    persistence = ChatPersistence(pool, store, secret=secret, problem=store_problem, listing=saved.listing)
    ratings = feedback.Ratings(store, persistence.save, persistence.export_button)
    corpus = CorpusPanel(pool)
    chat = ChatPanel(pool, persistence, corpus.chosen)
    documents = DocumentsPanel(pool, corpus)
    switcher = CollectionSwitcher(pool, corpus, documents)
    uploads = UploadPanel(pool, corpus, documents)

    with gr.Blocks(title="Document Q&A assistant", fill_width=True) as demo:
        page = build_page(pool.served, settings, secret)
        state, chatbot, notice = page.state, page.chat.chatbot, page.chat.notice
        sources = page.options.sources
        answering, started = chat.wire(page.chat, new_chat=page.new_chat, state=state, options=page.options,
                                       collection=page.collection, chats=page.chats, markdown=page.markdown,
                                       ratings=ratings, exported=page.exported)
        picked = persistence.wire_pick(page.chats, state=state, chatbot=chatbot, markdown=page.markdown,
                                       chats_notice=page.chats_notice, notice=notice)
        switched = [*started, picked]  # the events that change the open chat
        deleted = saved.wire(page.managing, state=state, chats=page.chats, chatbot=chatbot, markdown=page.markdown,
                             notice=page.chats_notice, export_chat=persistence.export_button, switched=switched,
                             answered=answering)
        deleted.then(ratings.export, [state], [page.exported], show_progress="hidden")
        model_server.wire(page.server, state)
        ratings.wire(chat=chatbot, state=state, box=page.chat.comment, save=page.chat.save_comment, notice=notice,
                     markdown=page.markdown, exported=page.exported, switched=[*switched, deleted])
        uploads.wire(page.files, page.upload_status, collection=page.collection, sources=sources,
                     corpus=page.corpus, documents=page.documents)
        switched_to = dict(collection=page.collection, remembered=page.remembered, corpus=page.corpus,
                           sources=sources, documents=page.documents, notice=notice)
        switcher.wire(**switched_to)
        documents.wire(page.documents, collection=page.collection, sources=sources, corpus=page.corpus)
        # The page's two loads, in this order: the collection and its panels, then the chats.
        switcher.wire_load(demo, **switched_to)
        opened = persistence.wire_open(demo, browser_id=page.browser_id, state=state, chats=page.chats,
                                       chatbot=chatbot, markdown=page.markdown, chats_notice=page.chats_notice)
        opened.then(ratings.export, [state], [page.exported], show_progress="hidden")
        opened.then(saved.title_box, [state], [page.managing.title], show_progress="hidden")
    # Gradio answers one event at a time unless told otherwise: every user would wait behind the others.
    # The engine is safe to call from several threads (see AnswerEngine); the limit is measured by evals/bench_load.py.
    demo.queue(default_concurrency_limit=settings.ui.concurrency)
    return demo


def launch_options() -> dict[str, Any]:
    """The look of the page (Gradio 6 takes theme, css and js at launch)."""
    return {"theme": make_theme(), "css": CSS, "head": HEAD_JS}
