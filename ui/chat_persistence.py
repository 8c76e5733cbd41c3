"""Chats that last: each finished answer saves the conversation (`ChatSession.to_dict()`) to the ChatStore next to
the index, owned by the signed-in user or, without sign-in, by a random browser id the page keeps in the browser's
localStorage (gr.BrowserState). A reload restores the latest chat; picking one in the Chats list opens it, rendered
as it was live (the same renderer). The open chat is also offered as a Markdown download."""

from __future__ import annotations

import datetime as dt
import logging
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.conversation.export import chat_markdown, markdown_filename
from assistant.conversation.saved import ChatStore, chat_title, new_chat_id
from assistant.conversation.session import ChatSession
from assistant.conversation.shown import answer_of
from assistant.engine_pool import EnginePool
from assistant.errors import ChatChangedError, ChatStoreError, SessionFormatError
from ui import controls, feedback, render
from ui.chats import saved_title
from ui.state import SessionState

log = logging.getLogger(__name__)

Message = dict[str, str]
Listing = Callable[[SessionState], tuple[Any, str]]  # the Chats radio for a session, and a notice

BROWSER_ID_KEY = "assistant-browser-id"
_BROWSER_ID = re.compile(r"[0-9a-f]{32}")


def browser_secret(store: ChatStore) -> tuple[str | None, str]:
    """(the secret the browser's id is kept under, '' or why chats are not saved). It is kept in the store so that a
    browser's id survives server restarts (a fresh secret would lose it)."""
    try:
        return store.secret("browser-state"), ""
    except ChatStoreError as err:
        log.error("saved chats are off: %s", err)
        return None, f"Chats are not being saved: {err}"


def owner_of(request: gr.Request | None, browser_id: object) -> tuple[str, str]:
    """(owner of this page's chats, the browser id to keep). A signed-in user owns their chats on any
    browser; otherwise the browser's own random id does (anything else found in localStorage is replaced)."""
    kept = browser_id if isinstance(browser_id, str) and _BROWSER_ID.fullmatch(browser_id) else new_chat_id()
    user = request.username if request is not None else None
    return (f"user:{user}" if user else f"browser:{kept}"), kept


def _messages(chat: ChatSession) -> list[Message]:
    """The chatbot's messages for a restored chat, rendered as they were live (the same renderer)."""
    messages: list[Message] = []
    for turn in chat.history:
        messages.append({"role": "user", "content": render.render_question(turn.question)})
        messages.append({"role": "assistant", "content": render.render_answer(answer_of(turn), restored=True)})
    return messages


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ChatPersistence:
    """Saving, restoring and exporting this page's chats. `problem`: why chats are not saved ('' when they are);
    `secret`: the browser id's secret (None: no owner, nothing is saved); `listing`: the Chats list (ui.chats)."""

    def __init__(self, pool: EnginePool, store: ChatStore, *, secret: str | None, problem: str,
                 listing: Listing) -> None:
        self.pool, self.store, self.secret, self.problem, self.listing = pool, store, secret, problem, listing
        self.export_dir = Path(tempfile.mkdtemp(prefix="assistant-chat-export-"))

    def export_button(self, state: SessionState | None) -> Any:
        """The "Export as Markdown" download of the open chat, written afresh (disabled while it is empty)."""
        if state is None or not state.chat.history:
            return gr.DownloadButton(value=None, interactive=False)
        title = chat_title(state.chat.to_dict())
        saved = saved_title(self.store, state)  # '' when unsaved: titled by the first question
        folder = self.export_dir / (state.chat_id or new_chat_id())
        folder.mkdir(parents=True, exist_ok=True)
        # A title the user gave names the file; else the whole first question (words, not the title cut to 80)
        path = folder / markdown_filename(saved if saved and saved != title else state.chat.history[0].question)
        title = saved or title
        path.write_text(chat_markdown(state.chat.history, title=title, exported=_utc_now()), encoding="utf-8")
        return gr.DownloadButton(value=str(path), interactive=True)

    def save(self, state: SessionState) -> str:
        """Save the chat after an answer or a rating; '' or what the page should say about it. A chat saved from
        another tab or window since this page opened it is not overwritten: this page's conversation is saved as a
        new chat instead, so that neither loses a turn."""
        if state.owner is None:
            return self.problem
        forked = ""
        state.chat_id = state.chat_id or new_chat_id()
        try:
            try:
                summary = self.store.save(state.owner, state.chat_id, state.chat.to_dict(), revision=state.revision)
            except ChatChangedError:
                log.info("chat %s changed elsewhere; saving this page's copy as a new chat", state.chat_id)
                state.chat_id = new_chat_id()
                summary = self.store.save(state.owner, state.chat_id, state.chat.to_dict())
                forked = ("This chat was changed in another tab or window after it was opened here, so this "
                          "conversation was saved as a new chat; both are in the Chats list.")
        except ChatStoreError as err:
            log.error("saving chat %s failed: %s", state.chat_id, err)
            return f"This chat was not saved: {err}"
        state.revision = summary.revision
        return forked

    def restore(self, state: SessionState, chat_id: str) -> str:
        """Make `chat_id` this page's chat; '' or why it could not be opened (the current chat stays)."""
        if state.owner is None:
            return self.problem
        try:
            session, revision = self.store.load_revision(state.owner, chat_id)
            chat = ChatSession.from_dict(session, engine=self.pool.primary)
        except (ChatStoreError, SessionFormatError) as err:
            return f"Could not open that chat: {err}"
        state.show(chat, chat_id, revision)
        return ""

    def open_page(self, browser_id: object, request: gr.Request) -> tuple[Any, ...]:
        """On load: who owns the chats here, the list, and the latest chat restored."""
        owner, kept = owner_of(request, browser_id)
        state = SessionState(chat=ChatSession(engine=self.pool.primary), owner=owner if self.secret else None)
        problem = self.problem if state.owner is None else ""
        if state.owner is not None:
            try:
                latest = self.store.find(state.owner).chats[:1]  # the newest readable one
            except ChatStoreError as err:
                latest, problem = [], str(err)
            if latest:
                problem = self.restore(state, latest[0].chat_id)
        chats, listing_problem = self.listing(state)
        return (kept, state, chats, feedback.chatbot(_messages(state.chat), state.chat), self.export_button(state),
                render.render_notice(problem) or listing_problem)

    def pick_chat(self, chat_id: str | None, state: SessionState | None) -> tuple[Any, ...]:
        """(chatbot, state, Markdown export, the list's notice, the chat's notice, the list's selection)."""
        if state is None or not chat_id:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        if state.run.active:  # the streaming answer belongs to the open chat: it stays open, its entry selected
            return (gr.skip(), state, gr.skip(), controls.BUSY_NOTICE, gr.skip(),
                    gr.Radio(value=state.chat_id))
        problem = self.restore(state, chat_id)
        return (feedback.chatbot(_messages(state.chat), state.chat), state, self.export_button(state),
                render.render_notice(problem), "", gr.skip())

    def wire_pick(self, chats: gr.Radio, *, state: gr.State, chatbot: gr.Chatbot, markdown: gr.DownloadButton,
                  chats_notice: gr.HTML, notice: gr.HTML) -> Any:
        """Picking a saved chat opens it; returns the event (it changes the open chat)."""
        return chats.input(self.pick_chat, [chats, state], [chatbot, state, markdown, chats_notice, notice, chats],
                           show_progress="hidden")

    def wire_open(self, demo: gr.Blocks, *, browser_id: gr.BrowserState, state: gr.State, chats: gr.Radio,
                  chatbot: gr.Chatbot, markdown: gr.DownloadButton, chats_notice: gr.HTML) -> Any:
        """The page's load restores the latest chat; returns the event, for what must follow it."""
        return demo.load(self.open_page, [browser_id], [browser_id, state, chats, chatbot, markdown, chats_notice],
                         show_progress="hidden")
