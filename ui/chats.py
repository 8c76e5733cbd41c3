"""The saved-chat controls beside the chat list: search it, rename the open chat, delete the open chat (after a
confirm step, like removing a document). The store does the work, each in one owner-scoped transaction
(ChatStore.search / rename / delete); these handlers only translate: typed errors become one-line notices, and
nothing typed is lost on an error (a refused title stays in its box)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant.conversation.saved import TITLE_MAX, ChatListing, ChatStore, ChatSummary
from assistant.engine import AnswerEngine
from assistant.errors import ChatNotFoundError, ChatStoreError, InvalidArgumentError
from ui import controls, render
from ui.state import SessionState

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class ChatControls:
    search: gr.Textbox
    title: gr.Textbox
    rename: gr.Button
    delete: gr.Button
    confirm: gr.Button
    cancel: gr.Button


def chat_choices(chats: list[ChatSummary]) -> list[tuple[str, str]]:
    return [(f"{c.title} · {c.updated.astimezone():%b %d %H:%M}", c.chat_id) for c in chats]


def unreadable_notice(listing: ChatListing) -> str:
    """One line naming the saved chats a listing skipped because they cannot be read ('' when none was)."""
    ids = [chat.chat_id for chat in listing.unreadable]
    if not ids:
        return ""
    named = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
    noun = "chat could" if len(ids) == 1 else "chats could"
    return render.render_notice(f"{len(ids)} saved {noun} not be read and {'is' if len(ids) == 1 else 'are'} not "
                                f"listed ({named}); the file was left as it is.", "info")


def search_box() -> gr.Textbox:
    """Above the list: filters it as one types."""
    return gr.Textbox(label="Search chats", show_label=False, elem_id="chat-search", lines=1, max_lines=1,
                      placeholder="Search saved chats (titles, questions, answers)…")


def manage_controls(search: gr.Textbox) -> ChatControls:
    """Under the list: rename and delete act on the open chat (the one picked in the list)."""
    with gr.Row(elem_classes="chat-rename", equal_height=True):
        title = gr.Textbox(label="Title", show_label=False, elem_id="chat-title", lines=1, max_lines=1, scale=4,
                           placeholder=f"New title for the open chat (up to {TITLE_MAX} characters)")
        rename = gr.Button("Rename", elem_id="rename-chat", size="sm", scale=1, min_width=80)
    with gr.Row(elem_classes="chat-delete"):
        delete = gr.Button("Delete chat", elem_id="delete-chat", size="sm", scale=0, min_width=0)
        confirm = gr.Button("Confirm delete", elem_id="confirm-delete-chat", size="sm", variant="stop", visible=False,
                            scale=0, min_width=0)
        cancel = gr.Button("Cancel", elem_id="cancel-delete-chat", size="sm", visible=False, scale=0, min_width=0)
    return ChatControls(search, title, rename, delete, confirm, cancel)


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def _idle() -> tuple[Any, Any, Any]:
    """(Delete, Confirm delete, Cancel) when no delete awaits confirmation."""
    return gr.Button(visible=True), gr.Button(visible=False), gr.Button(visible=False)


class SavedChats:
    """The handlers. `problem`: why this page's chats are not saved ('' when they are); `engine`: what a new
    conversation answers with (after the open chat is deleted)."""

    def __init__(self, store: ChatStore, problem: str, engine: Callable[[], AnswerEngine]) -> None:
        self.store, self.problem, self.engine = store, problem, engine

    def listing(self, state: SessionState) -> tuple[Any, str]:
        """The Chats radio for this owner (only the chats the search matches), and a notice ('' when all is well)."""
        if state.owner is None:
            return gr.Radio(choices=[], value=None), render.render_notice(self.problem)
        try:
            listing = self.store.find(state.owner, state.chat_query)
        except ChatStoreError as err:
            return gr.Radio(choices=[], value=None), render.render_notice(str(err))
        found = listing.chats
        opened = state.chat_id if any(c.chat_id == state.chat_id for c in found) else None
        return gr.Radio(choices=chat_choices(found), value=opened), unreadable_notice(listing)

    def search(self, text: str, state: SessionState | None) -> tuple[Any, str]:
        if state is None:
            return gr.skip(), ""
        state.chat_query = " ".join((text or "").split())
        radio, problem = self.listing(state)
        if not state.chat_query or radio.choices:
            return radio, problem
        return radio, problem or render.render_notice(f"No saved chat matches “{state.chat_query}”.", "info")

    def rename(self, title: str, state: SessionState | None) -> tuple[Any, ...]:
        """Rename the open chat: (the list, the title box, a notice)."""
        refused = self._unsaved(state, "rename")
        if refused:
            return gr.skip(), gr.skip(), refused
        try:
            summary = self.store.rename(state.owner, state.chat_id, title or "")
        except (InvalidArgumentError, ChatStoreError) as err:  # the typed title stays in its box
            return gr.skip(), gr.skip(), render.render_notice(_sentence(str(err)))
        radio, problem = self.listing(state)
        return radio, summary.title, problem or render.render_notice(f"Renamed this chat to “{summary.title}”.", "ok")

    def ask_to_delete(self, state: SessionState | None) -> tuple[Any, ...]:
        """First click: name the chat and ask; nothing is deleted yet. (Delete, Confirm, Cancel, a notice)."""
        refused = self._unsaved(state, "delete")
        if refused:
            return *_idle(), refused
        try:
            chat = self._summary(state.owner, state.chat_id)
        except ChatStoreError as err:
            return *_idle(), render.render_notice(_sentence(str(err)))
        state.pending_delete = chat.chat_id
        noun = "answer" if chat.turns == 1 else "answers"
        question = f"Delete the chat “{chat.title}” and its {chat.turns} {noun}? This cannot be undone."
        return (gr.Button(visible=False), gr.Button(visible=True), gr.Button(visible=True),
                render.render_notice(question, "info"))

    def cancel(self, state: SessionState | None) -> tuple[Any, ...]:
        if state is not None:
            state.pending_delete = None
        return *_idle(), ""

    def delete(self, state: SessionState | None) -> tuple[Any, ...]:
        """Confirmed: delete the chat that was asked about. When it is the open one, a new conversation starts.
        (chatbot, state, the list, the Markdown export, Delete, Confirm, Cancel, a notice)."""
        skip4 = (gr.skip(), gr.skip(), gr.skip(), gr.skip())
        pending = state.pending_delete if state is not None else None
        if state is None or state.owner is None or pending is None:
            return *skip4, *_idle(), render.render_notice(self.problem or "Pick a saved chat to delete first.")
        if pending == state.chat_id and state.run.active:  # asked again once the answer ends; nothing deleted
            return *skip4, gr.Button(visible=False), gr.Button(visible=True), gr.Button(visible=True), controls.BUSY_NOTICE
        state.pending_delete = None
        try:
            chat = self._summary(state.owner, pending)
            self.store.delete(state.owner, pending)
        except ChatStoreError as err:
            return *skip4, *_idle(), render.render_notice(_sentence(str(err)))
        shown: tuple[Any, Any] = (gr.skip(), gr.skip())
        if pending == state.chat_id:
            state.start_over(self.engine())
            shown = gr.Chatbot(value=[], feedback_value=[]), gr.DownloadButton(value=None, interactive=False)
        radio, problem = self.listing(state)
        said = problem or render.render_notice(f"Deleted the chat “{chat.title}”.", "ok")
        return shown[0], state, radio, shown[1], *_idle(), said

    def title_box(self, state: SessionState | None) -> Any:
        """The rename box once the open chat changed (picked, started, deleted, restored on load): the open chat's
        current title, to edit rather than retype; empty for a chat not saved yet."""
        return gr.Textbox(value=self._title(state))

    def title_if_blank(self, typed: str | None, state: SessionState | None) -> Any:
        """The rename box after an answer: a chat just saved shows its title there, unless something is typed."""
        return gr.skip() if (typed or "").strip() else self.title_box(state)

    def wire(self, controls: ChatControls, *, state: gr.State, chats: gr.Radio, chatbot: gr.Chatbot,
             markdown: gr.DownloadButton, notice: gr.HTML, export_chat: Callable[[SessionState | None], Any],
             switched: Sequence[Any] = (), answered: Sequence[Any] = ()) -> Any:
        """Connect the controls; returns the confirmed delete's event, for what must follow it. `export_chat`: the
        Markdown download of the open chat, written afresh after a rename (it carries the title); `switched`: the
        page's events that change the open chat; `answered`: those that finish an answer (and may save a chat)."""
        buttons = [controls.delete, controls.confirm, controls.cancel]
        # .change, not .input: it also fires for a value not typed key by key (pasted, autofilled, set by a script)
        controls.search.change(self.search, [controls.search, state], [chats, notice], show_progress="hidden")
        for trigger in (controls.rename.click, controls.title.submit):
            renamed = trigger(self.rename, [controls.title, state], [chats, controls.title, notice], show_progress="hidden")
            renamed.then(export_chat, [state], [markdown], show_progress="hidden")
        controls.delete.click(self.ask_to_delete, [state], [*buttons, notice], show_progress="hidden")
        controls.cancel.click(self.cancel, [state], [*buttons, notice], show_progress="hidden")
        deleted = controls.confirm.click(self.delete, [state], [chatbot, state, chats, markdown, *buttons, notice],
                                         show_progress="hidden")
        for event in (*switched, deleted):
            event.then(self.title_box, [state], [controls.title], show_progress="hidden")
        for event in answered:
            event.then(self.title_if_blank, [controls.title, state], [controls.title], show_progress="hidden")
        return deleted

    # -- helpers ---------------------------------------------------------------------------------
    def _unsaved(self, state: SessionState | None, action: str) -> str:
        """Why the open chat cannot be renamed or deleted ('' when it can)."""
        if state is None or state.owner is None:
            return render.render_notice(self.problem or "Chats are not being saved on this page.")
        if state.chat_id is None:
            return render.render_notice(f"Ask a question first: a chat is saved with its first answer, and only a "
                                        f"saved chat can be {action}d.")
        return ""

    def _title(self, state: SessionState | None) -> str:
        return saved_title(self.store, state)

    def _summary(self, owner: str, chat_id: str) -> ChatSummary:
        return saved_summary(self.store, owner, chat_id)


def saved_summary(store: ChatStore, owner: str, chat_id: str) -> ChatSummary:
    """The list line of `owner`'s saved chat `chat_id`; ChatNotFoundError when there is none."""
    found = next((c for c in store.list(owner) if c.chat_id == chat_id), None)
    if found is None:
        raise ChatNotFoundError(f"no saved chat {chat_id!r} here: it was deleted, or it belongs to another "
                                "browser or user")
    return found


def saved_title(store: ChatStore, state: SessionState | None) -> str:
    """The open chat's title as saved (a rename's, else its first question's); '' when it is not saved or the
    store can't be read (the list's notice says what is wrong with the store)."""
    if state is None or state.owner is None or state.chat_id is None:
        return ""
    try:
        return saved_summary(store, state.owner, state.chat_id).title
    except ChatStoreError as err:
        log.warning("reading the title of chat %s failed: %s", state.chat_id, err)
        return ""
