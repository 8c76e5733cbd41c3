"""The Gradio page: chat with streamed, cited answers; settings; corpus facts and uploads.

Handlers only translate between the page and the library: typed errors become messages in the
page, and all HTML comes from `ui.render` (escaped). One ChatSession per browser session lives in
a gr.State; the engines (model, index) are shared through an EnginePool."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import assistant  # noqa: F401  (offline environment before gradio loads)
from assistant.chat import ChatSession
from assistant.errors import AssistantError
from assistant.types import Answer
from assistant.uploads import UPLOAD_SOURCE_PREFIX, upload_source
from ui import render
from ui.engines import ANSWERERS, EnginePool
from ui.filters import FilterError, make_filter
from ui.theme import CSS, HEAD_JS, make_theme
from ui.uploads import UPLOAD_EXTENSIONS, accept_uploads

import gradio as gr  # noqa: E402  (after the offline environment)

log = logging.getLogger(__name__)

Message = dict[str, str]

_PROGRESS_POLL_S = 0.5

WELCOME = (
    '<div class="welcome"><div class="welcome-title">Ask a question about your documents</div>'
    "<div>Every answer quotes its sources with numbered citations; open a source to see the exact passage. "
    "Follow-up questions keep the context of the conversation.</div></div>"
)


@dataclass
class SessionState:
    """Everything one browser session owns."""

    chat: ChatSession
    answers: list[Answer] = field(default_factory=list)


def _source_choices(pool: EnginePool) -> list[tuple[str, str]]:
    def label(source: str, title: str) -> str:
        short = title if len(title) <= 60 else title[:57].rstrip() + "…"
        return f"{short} ({source})" if title else source

    return [(label(source, title), source) for source, title, _ in pool.documents()]


def build_app(pool: EnginePool) -> gr.Blocks:
    """The page, wired to `pool`. `ui.server.start()` launches it with `launch_options()`."""
    settings = pool.settings

    def respond(message: str, history: list[Message], state: SessionState | None, answerer: str, top_k: float,
                sources: list[str] | None, date_from: str, date_to: str) -> Iterator[tuple[Any, ...]]:
        history = list(history or [])
        if not (message or "").strip():
            yield history, message, render.render_notice("Type a question first: the message is empty."), state
            return
        try:
            filters = make_filter(sources, date_from, date_to)
        except FilterError as err:
            yield history, message, render.render_notice(str(err)), state
            return
        if state is None:
            state = SessionState(chat=ChatSession(engine=pool.primary))
        try:
            state.chat.engine = pool.get(answerer)
        except (AssistantError, ValueError) as err:
            yield history, message, render.render_notice(f"Answerer {answerer!r} is not available: {err}"), state
            return
        state.chat.top_k = int(top_k)
        state.chat.filters = filters
        history.append({"role": "user", "content": render.render_question(message)})
        history.append({"role": "assistant", "content": render.render_streaming("")})
        yield history, "", "", state
        text = ""
        try:
            for piece in state.chat.stream(message):
                if isinstance(piece, Answer):
                    state.answers.append(piece)
                    history[-1] = {"role": "assistant", "content": render.render_answer(piece)}
                else:
                    text += piece
                    history[-1] = {"role": "assistant", "content": render.render_streaming(text)}
                yield history, "", "", state
        except AssistantError as err:
            history[-1] = {"role": "assistant", "content": render.render_error(str(err))}
            yield history, "", render.render_notice(str(err)), state
        except Exception as err:  # the page must stay usable; the details go to the server log
            log.exception("answering %r failed", message)
            friendly = f"Something went wrong while answering ({type(err).__name__}); the server log has the details."
            history[-1] = {"role": "assistant", "content": render.render_error(friendly)}
            yield history, "", render.render_notice(friendly), state

    def new_conversation(state: SessionState | None) -> tuple[Any, ...]:
        if state is not None:
            state.chat.reset()
            state.answers.clear()
        return [], "", render.render_notice("Started a new conversation.", "info"), state

    def corpus_view() -> tuple[Any, ...]:
        try:
            return render.render_corpus(pool.info(), pool.documents()), gr.Dropdown(choices=_source_choices(pool))
        except AssistantError as err:
            return render.render_notice(str(err)), gr.Dropdown(choices=[])

    def upload(files: list[str] | None) -> Iterator[tuple[Any, ...]]:
        paths = [Path(f) for f in (files or [])]
        if not paths:
            return
        batch = accept_uploads(paths, settings)
        refused = list(batch.refused)
        indexed: list[str] = []
        summary = ""
        if batch.accepted:
            names = ", ".join(name for _, name in batch.accepted)
            job = pool.add_files_in_background(batch.accepted)
            steps = 0
            # Others' questions are answered meanwhile; this only polls the job for its progress.
            while not job.wait(_PROGRESS_POLL_S):
                steps += 1
                yield (render.render_progress(f"Indexing {names}: {job.latest}", min(steps, 95), 100),
                       gr.skip(), gr.skip(), gr.skip())
            try:
                report = job.result()
            except AssistantError as err:
                refused.extend((name, str(err)) for _, name in batch.accepted)
            except Exception as err:  # the page must stay usable; the details go to the server log
                log.exception("indexing uploads %s failed", names)
                refused.extend((name, f"could not be indexed ({type(err).__name__}); the server log has the details")
                               for _, name in batch.accepted)
            else:
                failed = {source for source, _ in report.skipped}
                refused.extend((source.removeprefix(UPLOAD_SOURCE_PREFIX), reason) for source, reason in report.skipped)
                indexed = [name for _, name in batch.accepted if upload_source(name) not in failed]
                summary = f"Now {report.documents} documents, {report.chunks} chunks (indexed in {report.seconds:.1f} s)."
        corpus_html, dropdown = corpus_view()
        yield render.render_upload_result(indexed, refused, summary), corpus_html, dropdown, None

    with gr.Blocks(title="Document Q&A assistant", fill_width=True) as demo:
        state = gr.State(None)
        with gr.Row(elem_classes="app-header", equal_height=True):
            gr.HTML('<div class="brand"><span class="brand-mark">Q&amp;A</span><div><div class="brand-title">'
                    'Document Q&amp;A assistant</div><div class="brand-sub">Answers from your documents, with the '
                    "passages they come from</div></div></div>")
            new_chat = gr.Button("New conversation", elem_id="new-conversation", variant="secondary", size="md",
                                 scale=0, min_width=170)
        with gr.Row(equal_height=False):
            with gr.Column(scale=7, min_width=420):
                chatbot = gr.Chatbot(elem_id="chat", label="Conversation", show_label=False, height="68vh",
                                     latex_delimiters=[], placeholder=WELCOME, feedback_options=None,
                                     buttons=[], layout="bubble")
                with gr.Row(elem_classes="ask-row"):
                    question = gr.Textbox(elem_id="question", label="Question", show_label=False, scale=8, lines=1, max_lines=6,
                                          placeholder="Ask a question about the documents…", autofocus=True)
                    ask = gr.Button("Ask", elem_id="ask", variant="primary", scale=1, min_width=90)
                notice = gr.HTML("", elem_id="notice")
            with gr.Column(scale=4, min_width=320, elem_classes="side"):
                with gr.Accordion("Settings", open=True, elem_id="settings"):
                    answerer = gr.Dropdown(choices=list(ANSWERERS), value=settings.answer.answerer, label="Answerer",
                                           elem_id="answerer", info="Generative backends need a model or server configured.")
                    top_k = gr.Slider(1, 20, value=settings.retrieval.top_k, step=1, label="Passages to read (top-k)",
                                      elem_id="top-k")
                    sources = gr.Dropdown(choices=[], value=[], multiselect=True, label="Only these documents",
                                          elem_id="source-filter", info="Empty: all documents.")
                    with gr.Row():
                        date_from = gr.Textbox(label="From date", placeholder="YYYY-MM-DD", elem_id="date-from")
                        date_to = gr.Textbox(label="To date", placeholder="YYYY-MM-DD", elem_id="date-to")
                with gr.Accordion("Corpus", open=True, elem_id="corpus-panel"):
                    corpus = gr.HTML("", elem_id="corpus")
                    files = gr.File(label=f"Add documents ({', '.join(UPLOAD_EXTENSIONS)}; up to "
                                          f"{settings.ui.max_upload_mb:g} MB each)",
                                    file_count="multiple", type="filepath", elem_id="upload")
                    upload_status = gr.HTML("", elem_id="upload-status")

        ask_inputs = [question, chatbot, state, answerer, top_k, sources, date_from, date_to]
        ask_outputs = [chatbot, question, notice, state]
        question.submit(respond, ask_inputs, ask_outputs, show_progress="hidden")
        ask.click(respond, ask_inputs, ask_outputs, show_progress="hidden")
        new_chat.click(new_conversation, [state], [chatbot, question, notice, state], show_progress="hidden")
        chatbot.clear(new_conversation, [state], [chatbot, question, notice, state], show_progress="hidden")
        files.upload(upload, [files], [upload_status, corpus, sources, files], show_progress="minimal")
        demo.load(corpus_view, None, [corpus, sources], show_progress="hidden")
    return demo


def launch_options() -> dict[str, Any]:
    """The look of the page (Gradio 6 takes theme, css and js at launch)."""
    return {"theme": make_theme(), "css": CSS, "head": HEAD_JS}
