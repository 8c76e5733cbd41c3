"""Bookkeeping for the chat's Stop and Regenerate controls: which answer is running, and whether it is kept.

Stop cancels the streaming event (Gradio `cancels=`), but a step already running in a worker thread cannot be
interrupted: the answer may still finish after Stop was clicked. So the page streams without letting the
ChatSession record the turn, and `AnswerRun.keep` records it (swapping in the session with the new turn) under the
same lock that Stop takes: whichever comes first wins. Finished first: the answer is kept, saved and shown
finished. Stop first: the answer is discarded (never recorded nor saved) and the page shows the streamed text
marked "Stopped". Regenerate asks the last question again: a kept answer's turn is dropped first, so that the new
answer replaces it in the conversation's context, not follows it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assistant.conversation.session import ChatSession
from assistant.conversation.shown import turn_of
from assistant.types import Answer
from ui import render

Message = dict[str, Any]


@dataclass
class AnswerRun:
    """The page's latest answer. `number` changes with each question and each Stop: a run whose number is no
    longer current when its answer arrives was stopped."""

    number: int = 0
    kept: int = -1  # the run whose answer was kept (recorded, saved, shown finished)
    finished: Answer | None = None  # that answer
    partial: str = ""  # the text streamed so far by the running answer
    pending: str | None = None  # a question shown without a kept answer (stopped or failed): Regenerate asks it
    active: bool = False  # an answer is streaming: another question, or another chat, waits until it ends
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def start(self, question: str) -> int:
        with self.lock:
            self.number += 1
            self.partial, self.pending, self.active = "", question, True
            return self.number

    def keep(self, number: int, answer: Answer, record: Callable[[], None]) -> bool:
        """Run `number` finished with `answer`: True when it is kept (`record` ran, under the lock), False when
        Stop (or another chat) came first."""
        with self.lock:
            if number != self.number:
                return False
            record()
            self.kept, self.finished, self.pending, self.active = number, answer, None, False
            return True

    def end(self, number: int) -> None:
        """Run `number`'s stream ended (finished, failed, or its browser went away): it no longer blocks."""
        with self.lock:
            if number == self.number:
                self.active = False

    def stop(self) -> Answer | None:
        """Stop the running answer. Returns the answer when it had already finished (then it stays kept)."""
        with self.lock:
            self.active = False
            if self.kept == self.number:
                return self.finished
            self.number += 1
            return None

    def forget(self) -> None:
        """Another chat is shown (new, or picked from the list): a running answer is no longer this page's."""
        with self.lock:
            self.number += 1
            self.kept, self.finished, self.partial, self.pending, self.active = self.number, None, "", None, False


# What the page says when a question, a chat switch or a delete of the open chat comes while an answer streams.
BUSY_NOTICE = render.render_notice("An answer is still arriving: wait for it to finish, or press Stop, then try again.",
                                   "info")


def without_last_turn(chat: ChatSession) -> ChatSession:
    """The same conversation (engine, options, turns) minus its last turn."""
    return chat.with_turns(chat.history[:-1])


def with_turn(chat: ChatSession, answer: Answer) -> ChatSession:
    """The conversation with `answer`'s turn added, as `ChatSession.stream` would have recorded it."""
    return chat.with_turns((*chat.history, turn_of(answer)))


def stopped_messages(history: list[Message], run: AnswerRun) -> tuple[list[Message], bool]:
    """Stop the running answer: (the chatbot with its last, streaming, answer replaced by what it became,
    whether it was stopped: False when it had finished first and is kept)."""
    finished = run.stop()
    messages = list(history or [])
    if not messages or messages[-1].get("role") != "assistant":
        return messages, finished is None
    if finished is None and "ans streaming" not in str(messages[-1].get("content")):
        return messages, True  # that answer already ended (e.g. in an error): nothing was streaming
    content = render.render_answer(finished) if finished is not None else render.render_stopped(run.partial)
    messages[-1] = {"role": "assistant", "content": content}
    return messages, finished is None


def last_question(chat: ChatSession, run: AnswerRun) -> tuple[str | None, bool]:
    """(the question Regenerate asks again, whether the chat's last turn must be dropped first): a question left
    without a kept answer is asked as it is; otherwise the last finished turn is asked again and replaced."""
    if run.pending is not None:
        return run.pending, False
    turns = chat.history
    return (turns[-1].question, True) if turns else (None, False)


def without_last_exchange(history: list[Message]) -> list[Message]:
    """The chatbot's messages without the last question and its answer (Regenerate shows them again)."""
    messages = list(history or [])
    if messages and messages[-1].get("role") == "assistant":
        messages.pop()
    if messages and messages[-1].get("role") == "user":
        messages.pop()
    return messages
