"""The page's components, laid out: a header; the chat column; the side column with the collection switcher and
the Chats, Settings, Model server, Corpus and Documents panels. Only creates components (inside the caller's
gr.Blocks, to keep Gradio's order of creation): each panel's module builds its own parts and wires their events."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from assistant.config import Settings
from ui import chats as saved_chats
from ui import collection_memory, feedback, model_server
from ui.chat_panel import ChatColumn, chat_column
from ui.chat_persistence import BROWSER_ID_KEY
from ui.documents_panel import DocumentControls, controls
from ui.settings_panel import AnswerSettings, settings_panel
from ui.upload_panel import file_box

BRAND = ('<div class="brand"><span class="brand-mark">Q&amp;A</span><div><div class="brand-title">'
         'Document Q&amp;A assistant</div><div class="brand-sub">Answers from your documents, with the '
         "passages they come from</div></div></div>")


@dataclass(frozen=True)
class Page:
    """Every component the handlers read or write, by panel."""

    state: gr.State  # this browser session's SessionState
    browser_id: gr.BrowserState  # the random id that owns this browser's chats without sign-in
    remembered: gr.BrowserState  # the collection this browser chose (ui.collection_memory)
    new_chat: gr.Button
    chat: ChatColumn
    collection: gr.Dropdown
    chats: gr.Radio
    managing: saved_chats.ChatControls
    markdown: gr.DownloadButton  # the open chat, exported as Markdown
    exported: gr.DownloadButton  # this owner's feedback, as JSONL
    chats_notice: gr.HTML
    options: AnswerSettings
    server: model_server.ServerPanel
    corpus: gr.HTML
    files: gr.File
    upload_status: gr.HTML
    documents: DocumentControls


def build_page(served: str, settings: Settings, browser_secret: str | None) -> Page:
    """The components, laid out; `served` is the collection the switcher starts on."""
    state = gr.State(None)
    browser_id = gr.BrowserState(None, storage_key=BROWSER_ID_KEY, secret=browser_secret)
    remembered = collection_memory.memory(browser_secret)
    with gr.Row(elem_classes="app-header", equal_height=True):
        gr.HTML(BRAND)
        new_chat = gr.Button("New conversation", elem_id="new-conversation", variant="secondary", size="md",
                             scale=0, min_width=170)
    with gr.Row(equal_height=False, elem_classes="main-row"):
        with gr.Column(scale=7, min_width=420, elem_id="chat-column"):
            chat = chat_column()
        with gr.Column(scale=4, min_width=320, elem_classes="side", elem_id="side-column"):
            collection = gr.Dropdown(choices=[served], value=served, label="Collection", elem_id="collection",
                                     interactive=True,
                                     info="This chat answers from it (in this browser only); the corpus panel "
                                          "and the documents show it, and uploads go into it.")
            with gr.Accordion("Chats", open=True, elem_id="chats-panel"):
                chat_search = saved_chats.search_box()
                chats = gr.Radio(choices=[], value=None, label="Saved chats", show_label=False, elem_id="chats",
                                 info="Kept in this browser's history on the server; pick one to continue it.")
                managing = saved_chats.manage_controls(chat_search)
                with gr.Row(elem_classes="chat-exports"):
                    markdown = gr.DownloadButton("Export as Markdown", elem_id="export-chat", size="sm",
                                                 interactive=False)
                    exported = feedback.export_button()
                chats_notice = gr.HTML("", elem_id="chats-notice")
            options = settings_panel(settings)
            server = model_server.panel()
            with gr.Accordion("Corpus", open=True, elem_id="corpus-panel"):
                corpus = gr.HTML("", elem_id="corpus")
            with gr.Accordion("Documents", open=True, elem_id="documents-panel"):
                files, upload_status = file_box(settings)
                documents = controls()
    return Page(state, browser_id, remembered, new_chat, chat, collection, chats, managing, markdown, exported,
                chats_notice, options, server, corpus, files, upload_status, documents)
