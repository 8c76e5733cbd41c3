"""What one browser session owns (kept in a gr.State): its conversation, whose chats these are, and what the page's
controls are in the middle of (a running answer, a chat search, a delete awaiting its confirmation, the answer the
comment box speaks about). Its own module so that the page's control modules share it without importing ui.app."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.conversation.session import ChatSession
from assistant.engine import AnswerEngine
from assistant.types import Answer
from ui import controls
from ui.model_server import ServerChoice


@dataclass
class SessionState:
    """Everything one browser session owns."""

    chat: ChatSession
    answers: list[Answer] = field(default_factory=list)
    owner: str | None = None  # None: this page's chats are not saved (no store, or it failed)
    chat_id: str | None = None  # set when the chat is first saved
    revision: str | None = None  # the save of `chat_id` this page's copy came from (ChatStore.save checks it)
    run: controls.AnswerRun = field(default_factory=controls.AnswerRun)  # the running answer, for Stop/Regenerate
    chat_query: str = ""  # the saved-chat search: the list shows only the chats it matches
    pending_delete: str | None = None  # the saved chat whose delete awaits confirmation
    rated: int | None = None  # the turn the comment box speaks about: the last one rated
    server: ServerChoice | None = None  # this session's own model server (ui.model_server); None: the page's answerer

    def show(self, chat: ChatSession, chat_id: str | None, revision: str | None = None) -> None:
        """Make `chat` (saved as `chat_id` at `revision`, or not yet saved: None) this page's conversation; a running
        answer and the comment box's answer belong to the one it replaces."""
        self.run.forget()  # first: an answer finishing from now on is not kept, so it cannot land in `chat`
        self.chat, self.chat_id, self.revision = chat, chat_id, revision
        self.answers.clear()
        self.rated = None

    def start_over(self, engine: AnswerEngine) -> None:
        """A new, empty conversation (the old one stays saved)."""
        self.show(ChatSession(engine=engine), None)
