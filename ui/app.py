"""The Gradio page: chat with streamed, cited answers; settings; corpus facts; uploaded documents.

Handlers only translate between the page and the library: typed errors become messages in the
page, and all HTML comes from `ui.render` (escaped). One ChatSession per browser session lives in
a gr.State; the engines (model, index) are shared through the library's EnginePool. The page's
launcher (ui.server) sets the offline environment before this module, and gradio, load.

Chats last: each finished answer saves the conversation (`ChatSession.to_dict()`) to the ChatStore
next to the index, owned by the signed-in user or, without sign-in, by a random browser id the page
keeps in the browser's localStorage (gr.BrowserState). A reload restores the latest chat. The saved chats can
be searched, renamed and deleted (ui.chats), and each answer rated 👍/👎 with a comment (ui.feedback).

Collections: the switcher lists the store's built collections; the one chosen (per browser session: it is
this page's component value, so other users are not moved) is what this chat answers from, what the corpus
panel and the sources filter describe (title, date, source and chunks of every document, read from its
manifest), and where uploads go. The Documents panel lists its uploaded documents: one is downloaded, or
deleted after a confirm step: its chunks go in one crash-safe index run (the same library call as the API's
and the CLI's) in a background thread while the row shows "Deleting…", then the list, the corpus facts and
the sources filter refresh, and the next question answers from the new snapshot."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.documents import DocumentRow, collection_documents, uploaded_file_path
from assistant.arguments import make_filter
from assistant.conversation.export import chat_markdown, markdown_filename
from assistant.conversation.saved import ChatStore, chat_title, new_chat_id
from assistant.conversation.session import ChatSession
from assistant.conversation.shown import answer_of
from assistant.engine import AnswerEngine
from assistant.engine_pool import EnginePool
from assistant.errors import AssistantError, ChatStoreError, InvalidArgumentError, SessionFormatError
from assistant.index.status import collection_info
from assistant.types import Answer
from assistant.ingest.uploads import UPLOAD_SOURCE_PREFIX, upload_source
from ui import chats as saved_chats, collection_memory, controls, feedback, model_server, render
from ui.state import SessionState
from ui.theme import CSS, HEAD_JS, SHOW_UPLOAD_STATUS_JS, make_theme
from ui.uploads import UPLOAD_EXTENSIONS, accept_uploads

log = logging.getLogger(__name__)

Message = dict[str, str]

_PROGRESS_POLL_S = 0.5
_BROWSER_ID = re.compile(r"[0-9a-f]{32}")
_BROWSER_ID_KEY = "assistant-browser-id"
_DATE_FIELDS = ("the 'From' date", "the 'To' date")  # how filter messages name the page's date fields

ANSWERERS: tuple[tuple[str, str], ...] = (
    ("Extractive (quotes, no model)", "extractive"),
    ("Local model (llama.cpp)", "llamacpp"),
    ("OpenAI-compatible server", "openai"),
)

WELCOME = (
    '<div class="welcome"><div class="welcome-title">Ask a question about your documents</div>'
    "<div>Every answer quotes its sources with numbered citations; open a source to see the exact passage. "
    "Follow-up questions keep the context of the conversation.</div></div>"
)


def _source_choices(rows: list[DocumentRow]) -> list[tuple[str, str]]:
    def label(source: str, title: str) -> str:
        short = title if len(title) <= 60 else title[:57].rstrip() + "…"
        return f"{short} ({source})" if title else source

    return [(label(row.source, row.title), row.source) for row in rows]  # by source, as the manifest lists them


def _as_date(value: str | None) -> dt.date | None:
    """A manifest's ISO date; None for none (or one an older index wrote in another form)."""
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _owner(request: gr.Request | None, browser_id: object) -> tuple[str, str]:
    """(owner of this page's chats, the browser id to keep). A signed-in user owns their chats on any
    browser; otherwise the browser's own random id does (anything else found in localStorage is replaced)."""
    kept = browser_id if isinstance(browser_id, str) and _BROWSER_ID.fullmatch(browser_id) else new_chat_id()
    user = request.username if request is not None else None
    return (f"user:{user}" if user else f"browser:{kept}"), kept


def _kept_sources(selected: list[str] | None, choices: list[tuple[str, str]]) -> list[str]:
    """The filter's chosen sources that still exist: a deleted one left chosen would make Gradio refuse
    the next question (a dropdown's value must be one of its choices)."""
    known = {value for _, value in choices}
    return [source for source in selected or [] if source in known]


def _deleted_message(name: str, collection: str, chunks: int) -> str:
    noun = "chunk" if chunks == 1 else "chunks"
    return f"Deleted {name} and its {chunks} {noun} from collection {collection}."


def _messages(chat: ChatSession) -> list[Message]:
    """The chatbot's messages for a restored chat, rendered as they were live (the same renderer)."""
    messages: list[Message] = []
    for turn in chat.history:
        messages.append({"role": "user", "content": render.render_question(turn.question)})
        messages.append({"role": "assistant", "content": render.render_answer(answer_of(turn), restored=True)})
    return messages


def build_app(pool: EnginePool) -> gr.Blocks:
    """The page, wired to `pool`. `ui.server.start()` launches it with `launch_options()`."""
    settings = pool.settings
    store = ChatStore.for_settings(settings)
    export_dir = Path(tempfile.mkdtemp(prefix="assistant-chat-export-"))
    download_dir = Path(tempfile.mkdtemp(prefix="assistant-document-download-"))
    try:  # kept in the store so that a browser's id survives server restarts (a fresh secret would lose it)
        browser_secret, store_problem = store.secret("browser-state"), ""
    except ChatStoreError as err:
        log.error("saved chats are off: %s", err)
        browser_secret, store_problem = None, f"Chats are not being saved: {err}"

    def chosen(collection: str | None) -> str | None:
        """The switcher's collection as the pool keys it (None: the served one). Naming another checks it still
        exists (IndexMissingError naming those that do); it is never built by being chosen."""
        if not collection or collection == pool.served:
            return None
        pool.collection(collection)
        return collection

    def engine_of(collection: str | None, answerer: str | None = None) -> AnswerEngine:
        name = chosen(collection)
        return pool.get(name, answerer, auto_index=False if name else None)

    def export_button(state: SessionState | None) -> Any:
        if state is None or not state.chat.history:
            return gr.DownloadButton(value=None, interactive=False)
        title = chat_title(state.chat.to_dict())
        folder = export_dir / (state.chat_id or new_chat_id())
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / markdown_filename(state.chat.history[0].question)  # the whole question: words, not a cut title
        path.write_text(chat_markdown(state.chat.history, title=title, exported=_utc_now()), encoding="utf-8")
        return gr.DownloadButton(value=str(path), interactive=True)

    servers = model_server.SessionEngines(pool)  # engines for sessions that chose their own model server
    chat_controls = saved_chats.SavedChats(store, store_problem, lambda: pool.primary)
    chat_list = chat_controls.listing  # the Chats radio (as the search filters it) and a notice

    def save(state: SessionState) -> str:
        """Save the chat after an answer; '' or the reason it was not saved."""
        if state.owner is None:
            return store_problem
        state.chat_id = state.chat_id or new_chat_id()
        try:
            store.save(state.owner, state.chat_id, state.chat.to_dict())
        except ChatStoreError as err:
            log.error("saving chat %s failed: %s", state.chat_id, err)
            return f"This chat was not saved: {err}"
        return ""

    def restore(state: SessionState, chat_id: str) -> str:
        """Make `chat_id` this page's chat; '' or why it could not be opened (the current chat stays)."""
        if state.owner is None:
            return store_problem
        try:
            chat = ChatSession.from_dict(store.load(state.owner, chat_id), engine=pool.primary)
        except (ChatStoreError, SessionFormatError) as err:
            return f"Could not open that chat: {err}"
        state.show(chat, chat_id)
        return ""

    ratings = feedback.Ratings(store, save, export_button)

    def open_page(browser_id: object, request: gr.Request) -> tuple[Any, ...]:
        """On load: who owns the chats here, the list, and the latest chat restored."""
        owner, kept = _owner(request, browser_id)
        state = SessionState(chat=ChatSession(engine=pool.primary), owner=owner if browser_secret else None)
        problem = store_problem if state.owner is None else ""
        if state.owner is not None:
            try:
                latest = store.find(state.owner).chats[:1]  # the newest readable one
            except ChatStoreError as err:
                latest, problem = [], str(err)
            if latest:
                problem = restore(state, latest[0].chat_id)
        chats, listing_problem = chat_list(state)
        return (kept, state, chats, feedback.chatbot(_messages(state.chat), state.chat), export_button(state),
                render.render_notice(problem) or listing_problem)

    def pick_chat(chat_id: str | None, state: SessionState | None) -> tuple[Any, ...]:
        if state is None or not chat_id:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        problem = restore(state, chat_id)
        return feedback.chatbot(_messages(state.chat), state.chat), state, export_button(state), render.render_notice(problem), ""

    def respond(message: str, history: list[Message], state: SessionState | None, answerer: str, top_k: float,
                sources: list[str] | None, date_from: str, date_to: str,
                collection: str | None = None) -> Iterator[tuple[Any, ...]]:
        history = list(history or [])
        if not (message or "").strip():
            yield history, message, render.render_notice("Type a question first: the message is empty."), state, *_SKIP2
            return
        try:
            filters = make_filter(sources, date_from, date_to, labels=_DATE_FIELDS)
        except InvalidArgumentError as err:
            notice = str(err)
            yield history, message, render.render_notice(notice[:1].upper() + notice[1:]), state, *_SKIP2
            return
        if state is None:
            state = SessionState(chat=ChatSession(engine=pool.primary))
        try:  # the collection this browser chose: the next question answers from its latest snapshot
            name = chosen(collection)
        except AssistantError as err:  # e.g. the chosen collection is gone
            yield history, message, render.render_notice(str(err)), state, *_SKIP2
            return
        try:  # this session's own model server (ui.model_server), else the page's answerer
            state.chat.engine = servers.engine_for(state.server, name, answerer)
        except (AssistantError, ValueError) as err:
            yield history, message, render.render_notice(servers.unavailable(state.server, answerer, err)), state, *_SKIP2
            return
        state.chat.top_k = int(top_k)
        state.chat.filters = filters
        history.append({"role": "user", "content": render.render_question(message)})
        history.append({"role": "assistant", "content": render.render_streaming("")})
        run = state.run.start(message)
        yield feedback.chatbot(history, state.chat), "", "", state, *_SKIP2
        text = ""
        try:  # history= keeps the session from recording the turn: only a kept answer is (see ui.controls)
            for piece in state.chat.stream(message, history=state.chat.history):
                if isinstance(piece, Answer):
                    def record(answer: Answer = piece, owner: SessionState = state) -> None:
                        owner.chat = controls.with_turn(owner.chat, answer)
                        owner.answers.append(answer)

                    if not state.run.keep(run, piece, record):  # Stopped while this step ran: not kept
                        return
                    history[-1] = {"role": "assistant", "content": render.render_answer(piece)}
                    problem = save(state)
                    chats, listing_problem = chat_list(state)
                    yield (feedback.chatbot(history, state.chat), "", render.render_notice(problem) or listing_problem, state,
                           chats, export_button(state))
                else:
                    text += piece
                    state.run.partial = text
                    history[-1] = {"role": "assistant", "content": render.render_streaming(text)}
                    yield feedback.chatbot(history, state.chat), "", "", state, *_SKIP2
        except AssistantError as err:
            history[-1] = {"role": "assistant", "content": render.render_error(str(err))}
            yield feedback.chatbot(history, state.chat), "", render.render_notice(str(err)), state, *_SKIP2
        except Exception as err:  # the page must stay usable; the details go to the server log
            log.exception("answering %r failed", message)
            friendly = f"Something went wrong while answering ({type(err).__name__}); the server log has the details."
            history[-1] = {"role": "assistant", "content": render.render_error(friendly)}
            yield feedback.chatbot(history, state.chat), "", render.render_notice(friendly), state, *_SKIP2

    def new_conversation(state: SessionState | None) -> tuple[Any, ...]:
        if state is not None:  # the old chat stays saved; a new one starts with a fresh ChatSession
            state.start_over(pool.primary)
        return (feedback.chatbot([], None), "", render.render_notice("Started a new conversation.", "info"), state,
                gr.Radio(value=None), export_button(state))

    def regenerate(history: list[Message], state: SessionState | None, answerer: str, top_k: float,
                   sources: list[str] | None, date_from: str, date_to: str,
                   collection: str | None = None) -> Iterator[tuple[Any, ...]]:
        """Ask the last question again; its new answer replaces the old one (in the page and in the chat's
        context). The saved chat keeps the old answer until the new one finishes."""
        asked, drop = controls.last_question(state.chat, state.run) if state is not None else (None, False)
        if asked is None:
            yield history, gr.skip(), render.render_notice("Nothing to regenerate yet: ask a question first."), state, *_SKIP2
            return
        if drop:
            state.chat = controls.without_last_turn(state.chat)
            if state.answers:
                state.answers.pop()
        yield from respond(asked, controls.without_last_exchange(history), state, answerer, top_k, sources,
                           date_from, date_to, collection)

    def stop_answer(history: list[Message], state: SessionState | None) -> tuple[Any, ...]:
        """Stop was clicked (the streaming event is cancelled by Gradio): mark the answer stopped, or finished."""
        if state is None:
            return history, gr.skip(), *_idle_buttons()
        messages, stopped = controls.stopped_messages(history, state.run)
        said = "Stopped the answer; it was not saved." if stopped else "The answer had already finished; it is kept."
        return messages, render.render_notice(said, "info"), *_idle_buttons()

    def corpus_view(collection: str | None = None, selected: list[str] | None = None) -> tuple[Any, ...]:
        """The chosen collection's facts and documents (title, date, source, chunks: from its manifest, so a
        collection is described without loading its index) and the sources filter (keeping the chosen
        sources that still exist)."""
        try:
            engine = engine_of(collection)
            info = pool.info() if engine is pool.primary else collection_info(engine.settings, engine.store)
            rows = collection_documents(engine.settings, existing=pool.collections(), say_where=False)
            choices = _source_choices(rows)
            html = render.render_corpus(info, [(r.source, r.title, _as_date(r.date)) for r in rows],
                                        {r.source: r.chunks for r in rows})
            return html, gr.Dropdown(choices=choices, value=_kept_sources(selected, choices))
        except AssistantError as err:
            return render.render_notice(str(err)), gr.Dropdown(choices=[], value=[])

    def switch_collection(collection: str | None, selected: list[str] | None) -> tuple[Any, ...]:
        """The switcher moved: this browser's next question, the corpus panel and the documents follow it; the browser
        remembers it (in the same update, so that a reload right after keeps it)."""
        where = collection or pool.served
        said = render.render_notice(f"Questions in this browser are now answered from collection {where}.", "info")
        return (*corpus_view(collection, selected), *doc_panel(collection, None), said,
                collection_memory.remember(collection))

    # -- the Documents panel. Its handlers return `doc_outputs`: the list, the document picker, download,
    # delete, confirm, cancel, the panel's notice, and the name whose delete awaits confirmation. --------
    def download_button(collection: str | None, name: str | None) -> Any:
        """A download of the chosen upload: a copy in the page's temp folder (Gradio serves files only from
        there, not from the index folder), kept per name, size and time so that picking it again costs nothing."""
        if not name:
            return gr.DownloadButton(value=None, interactive=False)
        try:
            source = uploaded_file_path(pool.collection(collection), name)
        except AssistantError:
            return gr.DownloadButton(value=None, interactive=False)
        facts = source.stat()
        key = hashlib.sha256(f"{collection}\0{name}\0{facts.st_size}\0{facts.st_mtime_ns}".encode()).hexdigest()[:20]
        copy = download_dir / key / source.name
        if not copy.is_file():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copy)
        return gr.DownloadButton(value=str(copy), interactive=True)

    def doc_panel(collection: str | None, chosen: str | None, notice: str = "") -> tuple[Any, ...]:
        """The panel at rest: the collection's documents, `chosen` still picked when it is still there."""
        try:
            rows = pool.document_rows(collection)
        except AssistantError as err:
            return (render.render_notice(str(err)), gr.Dropdown(choices=[], value=None, interactive=True),
                    download_button(None, None), gr.Button(visible=True, interactive=False),
                    gr.Button("Confirm delete", visible=False), gr.Button(visible=False), notice, None)
        names = [row.name for row in rows]
        chosen = chosen if chosen in names else None
        return (render.render_documents(rows, collection or pool.served),
                gr.Dropdown(choices=names, value=chosen, interactive=True), download_button(collection, chosen),
                gr.Button(visible=True, interactive=chosen is not None),
                gr.Button("Confirm delete", visible=False, interactive=True), gr.Button(visible=False), notice, None)

    def open_documents(remembered: object) -> tuple[Any, ...]:
        """On load: the collections (new ones may have been built since the page was made), and the one this browser
        chose before (ui.collection_memory; the served one when it is gone) with its corpus facts and documents."""
        try:
            names = pool.collections()
        except AssistantError as err:
            problem = render.render_notice(str(err))
            return (gr.Dropdown(choices=[pool.served], value=pool.served), *corpus_view(None, None),
                    *doc_panel(None, None, problem), "", gr.skip())
        back = collection_memory.restore(remembered, names, pool.served)
        name = None if back.collection == pool.served else back.collection
        return (gr.Dropdown(choices=names, value=back.collection), *corpus_view(name, None), *doc_panel(name, None),
                render.render_notice(back.notice, "info"), back.remember)

    def pick_document(collection: str | None, chosen: str | None) -> tuple[Any, ...]:
        return doc_panel(collection, chosen)

    def ask_to_confirm(collection: str | None, chosen: str | None) -> tuple[Any, ...]:
        """First click on Delete: the row and the button ask for confirmation; nothing is deleted yet."""
        if not chosen:
            return doc_panel(collection, None, render.render_notice("Pick a document to delete first."))
        try:
            rows = pool.document_rows(collection)
        except AssistantError as err:
            return doc_panel(collection, chosen, render.render_notice(str(err)))
        row = next((r for r in rows if r.name == chosen), None)
        if row is None:
            return doc_panel(collection, None, render.render_notice(f"{chosen} is no longer in this collection."))
        where = collection or pool.served
        question = f"Delete {chosen} and its {row.chunks} chunks from collection {where}? This cannot be undone."
        return (render.render_documents(rows, where, confirming=chosen), gr.skip(), gr.skip(),
                gr.Button(visible=False), gr.Button("Confirm delete", visible=True, interactive=True),
                gr.Button(visible=True, interactive=True), render.render_notice(question, "info"), chosen)

    def delete_document(collection: str | None, pending: str | None,
                        selected: list[str] | None) -> Iterator[tuple[Any, ...]]:
        """Confirmed: delete in a background job; the row shows "Deleting…" until its index run ends."""
        if not pending:
            yield *doc_panel(collection, None, render.render_notice("Pick a document to delete first.")), *_SKIP2
            return
        where = collection or pool.served
        try:
            rows = pool.document_rows(collection)
            job = pool.remove_in_background([pending], collection)
        except AssistantError as err:
            yield *doc_panel(collection, pending, render.render_notice(str(err))), *_SKIP2
            return
        before = next((r.chunks for r in rows if r.name == pending), 0)
        busy = (gr.Dropdown(interactive=False), gr.DownloadButton(interactive=False), gr.Button(visible=False),
                gr.Button("Deleting…", visible=True, interactive=False), gr.Button(visible=False))
        while not job.wait(_PROGRESS_POLL_S):  # questions are answered meanwhile from the published snapshot
            yield (render.render_documents(rows, where, deleting=pending, progress=job.latest), *busy,
                   render.render_notice(f"Deleting {pending}…", "info"), pending, *_SKIP2)
        try:
            job.result()
            notice = render.render_notice(_deleted_message(pending, where, before), "ok")
        except AssistantError as err:
            notice = render.render_notice(str(err))
        except Exception as err:  # the page must stay usable; the details go to the server log
            log.exception("deleting %r from %s failed", pending, where)
            notice = render.render_notice(f"Could not delete {pending} ({type(err).__name__}); "
                                          "the server log has the details.")
        yield *doc_panel(collection, None, notice), *corpus_view(collection, selected)

    def upload(files: list[str] | None, collection: str | None, selected: list[str] | None,
               chosen: str | None) -> Iterator[tuple[Any, ...]]:
        paths = [Path(f) for f in (files or [])]
        if not paths:
            return
        batch = accept_uploads(paths, settings)
        refused = list(batch.refused)
        indexed: list[str] = []
        summary = ""
        where = collection or pool.served
        if batch.accepted:
            names = ", ".join(name for _, name in batch.accepted)
            try:
                job = pool.add_files_in_background(batch.accepted, collection)
            except AssistantError as err:  # e.g. the chosen collection is gone
                yield render.render_notice(str(err)), gr.skip(), gr.skip(), None, *doc_panel(collection, chosen)
                return
            steps = 0
            # Others' questions are answered meanwhile; this only polls the job for its progress.
            while not job.wait(_PROGRESS_POLL_S):
                steps += 1
                yield (render.render_progress(f"Indexing {names}: {job.latest}", min(steps, 95), 100),
                       *(gr.skip(),) * (3 + len(doc_outputs)))
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
                summary = (f"Collection {where} now holds {report.documents} documents, {report.chunks} chunks "
                           f"(indexed in {report.seconds:.1f} s).")
        corpus_html, dropdown = corpus_view(collection, selected)
        yield (render.render_upload_result(indexed, refused, summary),
               corpus_html, dropdown, None, *doc_panel(collection, chosen))

    with gr.Blocks(title="Document Q&A assistant", fill_width=True) as demo:
        state = gr.State(None)
        browser_id = gr.BrowserState(None, storage_key=_BROWSER_ID_KEY, secret=browser_secret)
        remembered = collection_memory.memory(browser_secret)
        with gr.Row(elem_classes="app-header", equal_height=True):
            gr.HTML('<div class="brand"><span class="brand-mark">Q&amp;A</span><div><div class="brand-title">'
                    'Document Q&amp;A assistant</div><div class="brand-sub">Answers from your documents, with the '
                    "passages they come from</div></div></div>")
            new_chat = gr.Button("New conversation", elem_id="new-conversation", variant="secondary", size="md",
                                 scale=0, min_width=170)
        with gr.Row(equal_height=False, elem_classes="main-row"):
            with gr.Column(scale=7, min_width=420, elem_id="chat-column"):
                chatbot = gr.Chatbot(elem_id="chat", label="Conversation", show_label=False, height="68vh",
                                     latex_delimiters=[], placeholder=WELCOME, feedback_options=("Like", "Dislike"),
                                     buttons=[], layout="bubble")
                with gr.Row(elem_classes="ask-row"):
                    question = gr.Textbox(elem_id="question", label="Question", show_label=False, scale=8, lines=1, max_lines=6,
                                          placeholder="Ask a question about the documents…", autofocus=True)
                    ask = gr.Button("Ask", elem_id="ask", variant="primary", scale=1, min_width=90)
                with gr.Row(elem_classes="chat-actions"):
                    regen = gr.Button("Regenerate", elem_id="regenerate", size="sm", scale=0, min_width=0)
                    stop = gr.Button("Stop", elem_id="stop", size="sm", variant="stop", scale=0, min_width=0,
                                     visible=False)
                comment, save_comment = feedback.comment_controls()
                notice = gr.HTML("", elem_id="notice")
            with gr.Column(scale=4, min_width=320, elem_classes="side", elem_id="side-column"):
                collection = gr.Dropdown(choices=[pool.served], value=pool.served, label="Collection",
                                         elem_id="collection", interactive=True,
                                         info="This chat answers from it (in this browser only); the corpus panel "
                                              "and the documents show it, and uploads go into it.")
                with gr.Accordion("Chats", open=True, elem_id="chats-panel"):
                    chat_search = saved_chats.search_box()
                    chats = gr.Radio(choices=[], value=None, label="Saved chats", show_label=False, elem_id="chats",
                                     info="Kept in this browser's history on the server; pick one to continue it.")
                    managing = saved_chats.manage_controls(chat_search)
                    with gr.Row(elem_classes="chat-exports"):
                        export = gr.DownloadButton("Export as Markdown", elem_id="export-chat", size="sm",
                                                   interactive=False)
                        export_feedback = feedback.export_button()
                    chats_notice = gr.HTML("", elem_id="chats-notice")
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
                server_panel = model_server.panel()
                with gr.Accordion("Corpus", open=True, elem_id="corpus-panel"):
                    corpus = gr.HTML("", elem_id="corpus")
                with gr.Accordion("Documents", open=True, elem_id="documents-panel"):
                    files = gr.File(label=f"Add documents ({', '.join(UPLOAD_EXTENSIONS)}; up to "
                                          f"{settings.ui.max_upload_mb:g} MB each)",
                                    file_count="multiple", type="filepath", elem_id="upload")
                    upload_status = gr.HTML("", elem_id="upload-status")
                    documents = gr.HTML("", elem_id="documents")
                    document = gr.Dropdown(choices=[], value=None, label="Document", elem_id="document-choice",
                                           info="Pick an uploaded document to download or delete it.")
                    with gr.Row(elem_classes="doc-actions"):
                        download = gr.DownloadButton("Download", elem_id="download-document", size="sm",
                                                     interactive=False)
                        delete = gr.Button("Delete", elem_id="delete-document", size="sm", interactive=False)
                        confirm = gr.Button("Confirm delete", elem_id="confirm-delete", size="sm", variant="stop",
                                            visible=False)
                        cancel = gr.Button("Cancel", elem_id="cancel-delete", size="sm", visible=False)
                    documents_notice = gr.HTML("", elem_id="documents-notice")
                    pending = gr.State(None)  # the document whose delete awaits confirmation

        ask_inputs = [question, chatbot, state, answerer, top_k, sources, date_from, date_to, collection]
        ask_outputs = [chatbot, question, notice, state, chats, export]
        # Stop shows only while an answer streams (and Regenerate hides meanwhile); Stop cancels that event.
        buttons = [regen, stop]
        answering = []
        for trigger, fn, inputs in ((question.submit, respond, ask_inputs), (ask.click, respond, ask_inputs),
                                    (regen.click, regenerate, ask_inputs[1:])):
            shown = trigger(_busy_buttons, None, buttons, queue=False, show_progress="hidden")
            running = shown.then(fn, inputs, ask_outputs, show_progress="hidden")
            running.then(_idle_buttons, None, buttons, queue=False, show_progress="hidden")
            answering.append(running)
            if fn is regenerate:  # the regenerated answer's rating went with it
                running.then(ratings.export, [state], [export_feedback], show_progress="hidden")
        stop.click(stop_answer, [chatbot, state], [chatbot, notice, *buttons], cancels=answering,
                   show_progress="hidden")
        switched = [new_chat.click(new_conversation, [state], ask_outputs, show_progress="hidden"),
                    chatbot.clear(new_conversation, [state], ask_outputs, show_progress="hidden"),
                    chats.input(pick_chat, [chats, state], [chatbot, state, export, chats_notice, notice],
                                show_progress="hidden")]
        deleted = chat_controls.wire(managing, state=state, chats=chats, chatbot=chatbot, markdown=export,
                                     notice=chats_notice, switched=switched, answered=answering)
        deleted.then(ratings.export, [state], [export_feedback], show_progress="hidden")
        model_server.wire(server_panel, state)
        ratings.wire(chat=chatbot, state=state, box=comment, save=save_comment, notice=notice, markdown=export,
                     exported=export_feedback, switched=[*switched, deleted])
        doc_outputs = [documents, document, download, delete, confirm, cancel, documents_notice, pending]
        files.upload(upload, [files, collection, sources, document], [upload_status, corpus, sources, files, *doc_outputs],
                     show_progress="minimal").then(None, js=SHOW_UPLOAD_STATUS_JS)
        collection.input(switch_collection, [collection, sources], [corpus, sources, *doc_outputs, notice, remembered],
                         show_progress="hidden")
        document.input(pick_document, [collection, document], doc_outputs, show_progress="hidden")
        delete.click(ask_to_confirm, [collection, document], doc_outputs, show_progress="hidden")
        cancel.click(pick_document, [collection, document], doc_outputs, show_progress="hidden")
        confirm.click(delete_document, [collection, pending, sources], [*doc_outputs, corpus, sources],
                      show_progress="hidden")
        demo.load(open_documents, [remembered], [collection, corpus, sources, *doc_outputs, notice, remembered],
                  show_progress="hidden")
        opened = demo.load(open_page, [browser_id], [browser_id, state, chats, chatbot, export, chats_notice],
                           show_progress="hidden")
        opened.then(ratings.export, [state], [export_feedback], show_progress="hidden")
        opened.then(chat_controls.title_box, [state], [managing.title], show_progress="hidden")
    # Gradio answers one event at a time unless told otherwise: every user would wait behind the others.
    # The engine is safe to call from several threads (see AnswerEngine); the limit is measured by evals/bench_load.py.
    demo.queue(default_concurrency_limit=settings.ui.concurrency)
    return demo


_SKIP2 = (gr.skip(), gr.skip())  # the chat list and export button, unchanged while an answer streams


def _busy_buttons() -> tuple[Any, Any]:
    """(Regenerate, Stop) while an answer streams."""
    return gr.Button(visible=False), gr.Button(visible=True)


def _idle_buttons() -> tuple[Any, Any]:
    """(Regenerate, Stop) between answers."""
    return gr.Button(visible=True), gr.Button(visible=False)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def launch_options() -> dict[str, Any]:
    """The look of the page (Gradio 6 takes theme, css and js at launch)."""
    return {"theme": make_theme(), "css": CSS, "head": HEAD_JS}
