"""Thumbs up/down on answers, with an optional comment. Gradio's own like buttons on the chat (Chatbot.like) give the
verdict; the library keeps it on the answer's Turn (assistant.conversation.feedback), so it is saved with the chat,
shown again after a reload (the chatbot's `feedback_value`) and carried in the Markdown export; "Export feedback"
downloads all of this owner's verdicts as JSONL for evaluation.

The chat shows more answers than the conversation holds: a stopped or failed answer is shown but never kept, and a
long chat keeps only its last turns; and the chat the page sends with a click may lag the conversation by an answer.
So a rated message is matched to its turn by the key of its question and text that a kept answer (one drawn with a
Copy button) carries, never by its position alone. An answer still streaming shows no thumbs (ui.theme) and cannot
be rated."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.conversation.feedback import rated, write_feedback_jsonl
from assistant.conversation.saved import ChatStore
from assistant.conversation.session import ChatSession
from assistant.errors import ChatStoreError, InvalidArgumentError, SessionFormatError
from assistant.types import Turn
from ui import render
from ui.state import SessionState

log = logging.getLogger(__name__)

Message = dict[str, Any]

_LIKED = {True: "up", False: "down"}  # LikeData.liked; "" (the same thumb clicked again) takes the rating back
_SHOWN = {"up": "Like", "down": "Dislike"}  # the chatbot's feedback_value for a rating
_THUMBS = {"up": "thumbs up", "down": "thumbs down"}  # words: not every browser's fonts draw 👍 and 👎
_KEPT_MARK = 'class="copy-answer"'  # only a kept answer is drawn with a Copy button (ui.render.render_answer)
_NOT_RATED = "Rate an answer (the thumbs under it) first: the comment goes with the answer you rated last."


def _text(content: object) -> str:
    """A chat message's HTML, whether Gradio hands it back as text or as a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    return str(content)


def _kept(messages: Sequence[Message]) -> list[int]:
    """Positions of the answers the conversation kept, oldest first."""
    return [i for i, m in enumerate(messages) if m.get("role") == "assistant" and _KEPT_MARK in _text(m.get("content"))]


_KEY = re.compile(r'class="ans-actions" data-turn="([0-9a-f]+)"')  # ui.render.render_answer's mark of the turn shown


def turn_index(messages: Sequence[Message], position: int, turns: Sequence[Turn]) -> int | None:
    """The turn shown at chat message `position`; None for an answer that is not kept (stopped, failed, streaming)
    or one the conversation no longer holds (too old for a long chat, or replaced by Regenerate meanwhile).

    `messages` are the page's as they were when the thumb was clicked, which may lag the conversation: an answer
    recorded a moment before the page showed it, or a turn Regenerate has just dropped. So the answer is found by its
    question and text (the key its message carries), and its place among the kept answers only tells apart
    answers whose question and text are the same."""
    kept = _kept(messages)
    if position not in kept:
        return None
    found = _KEY.search(_text(messages[position]["content"]))
    if found is None:
        return None
    key = found.group(1)
    same = [i for i, turn in enumerate(turns) if render.answer_key(turn.question, turn.answer) == key]
    if len(same) <= 1:
        return same[0] if same else None
    alike = [p for p in kept if key in _text(messages[p]["content"])]  # the shown answers with that key, in order
    n = alike.index(position) - (len(alike) - len(same))  # counted from the newest, as a long chat drops the oldest
    return same[n] if 0 <= n < len(same) else None


def _unrated(messages: Sequence[Message], position: int) -> str:
    """Why the answer at `position` could not be rated."""
    shown = _text(messages[position].get("content")) if 0 <= position < len(messages) else ""
    if "ans streaming" in shown:
        return "That answer is still arriving: rate it once it has finished."
    return "That answer was not kept (stopped, failed, too old or replaced in this chat), so it cannot be rated."


def feedback_values(messages: Sequence[Message], turns: Sequence[Turn]) -> list[str | None]:
    """The chatbot's `feedback_value`: one entry per assistant message, the thumb its turn was given (or None)."""
    kept = _kept(messages)
    numbers = {position: k - (len(kept) - len(turns)) for k, position in enumerate(kept)}
    values: list[str | None] = []
    for i, message in enumerate(messages):
        if message.get("role") != "assistant":
            continue
        n = numbers.get(i, -1)
        feedback = turns[n].feedback if 0 <= n < len(turns) else None
        values.append(_SHOWN[feedback.rating] if feedback is not None else None)
    return values


def chatbot(messages: list[Message], chat: ChatSession | None) -> Any:
    """The chat's messages with each answer's thumb set: set whenever the messages change, so that a new or
    regenerated answer never shows the thumb of the one that stood there before."""
    return gr.Chatbot(value=messages, feedback_value=feedback_values(messages, chat.history if chat else ()))


def comment_controls() -> tuple[gr.Textbox, gr.Button]:
    """The comment box and its button, under the chat: hidden until an answer is rated."""
    with gr.Row(elem_classes="feedback-row"):
        box = gr.Textbox(label="Comment on the answer you rated (optional)", elem_id="feedback-comment", visible=False,
                         scale=8, lines=1, max_lines=4, placeholder="What was right or wrong with it?")
        save = gr.Button("Save comment", elem_id="save-comment", size="sm", visible=False, scale=1, min_width=110)
    return box, save


def closed_comment(state: SessionState | None) -> tuple[Any, Any]:
    """(the comment box, its button) after the page's conversation may have changed: hidden and emptied unless the
    open conversation still has an answer being commented on (a chat was opened or started, or the open one deleted:
    `SessionState.show` forgets the rated answer), so that no comment meant for one chat is left over for another."""
    if state is not None and state.rated is not None:
        return gr.skip(), gr.skip()
    return gr.Textbox(visible=False, value=""), gr.Button(visible=False)


def export_button() -> gr.DownloadButton:
    return gr.DownloadButton("Export feedback", elem_id="export-feedback", size="sm", interactive=False)


class Ratings:
    """The page's feedback handlers. `save` and `markdown` are the page's own: saving the chat, and its Markdown
    export (which carries the feedback, so it is remade after each rating)."""

    def __init__(self, store: ChatStore, save: Callable[[SessionState], str],
                 markdown: Callable[[SessionState], Any]) -> None:
        self.store, self.save, self.markdown = store, save, markdown
        self.folder = Path(tempfile.mkdtemp(prefix="assistant-feedback-export-"))
        self._key = secrets.token_bytes(16)  # folder names nobody can derive from an owner's name

    def rate(self, history: list[Message], state: SessionState | None, data: gr.LikeData) -> tuple[Any, ...]:
        """A thumb was clicked: the turn is rated (or unrated), saved, and the comment box opens for it."""
        if state is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        rating = _LIKED.get(data.liked) if isinstance(data.liked, bool) else None
        position = data.index if isinstance(data.index, int) else data.index[0]
        with state.run.lock:  # the lock an answer is recorded under: a rating never loses a turn added meanwhile
            turns = state.chat.history
            n = turn_index(history, position, turns)
            if n is not None:
                old = turns[n].feedback
                state.chat = state.chat.with_turns(rated(turns, n, rating, old.comment if old and rating else ""))
        if n is None:
            return gr.skip(), gr.skip(), render.render_notice(_unrated(history, position)), gr.skip(), gr.skip()
        state.rated = n if rating else None
        problem = self.save(state)
        if rating is None:
            said = render.render_notice(problem) or render.render_notice(f"Took back your rating of answer {n + 1}.", "info")
            return gr.Textbox(visible=False, value=""), gr.Button(visible=False), said, self.markdown(state), self.export(state)
        comment = state.chat.history[n].feedback
        said = render.render_notice(problem) or render.render_notice(
            f"Rated answer {n + 1} {_THUMBS[rating]}; add a comment below if you like.", "ok")
        box = gr.Textbox(visible=True, value=comment.comment if comment else "",
                         label=f"Comment on answer {n + 1} ({_THUMBS[rating]}, optional)")
        return box, gr.Button(visible=True), said, self.markdown(state), self.export(state)

    def comment(self, text: str, state: SessionState | None) -> tuple[Any, ...]:
        """Save the comment box's text with the last rated answer; on an error the text stays in the box."""
        if state is None or state.rated is None:
            return gr.skip(), gr.skip(), render.render_notice(_NOT_RATED), gr.skip(), gr.skip()
        with state.run.lock:
            turns, n = state.chat.history, state.rated
            feedback = turns[n].feedback if n < len(turns) else None
            if feedback is None:  # e.g. that answer was regenerated since
                return gr.skip(), gr.skip(), render.render_notice(_NOT_RATED), gr.skip(), gr.skip()
            try:
                state.chat = state.chat.with_turns(rated(turns, n, feedback.rating, text or ""))
            except InvalidArgumentError as err:
                message = str(err)
                return gr.skip(), gr.skip(), render.render_notice(message[:1].upper() + message[1:]), gr.skip(), gr.skip()
        problem = self.save(state)
        said = render.render_notice(problem) or render.render_notice(f"Saved your comment on answer {n + 1}.", "ok")
        return gr.skip(), gr.skip(), said, self.markdown(state), self.export(state)

    def export(self, state: SessionState | None) -> Any:
        """The "Export feedback" download: this owner's rated answers as JSONL, written afresh (atomically) whenever
        they may have changed; disabled while there are none."""
        if state is None or state.owner is None:
            return gr.DownloadButton("Export feedback", value=None, interactive=False)
        folder = hashlib.sha256(self._key + state.owner.encode("utf-8")).hexdigest()[:32]
        path = self.folder / folder / "feedback.jsonl"
        try:
            count = write_feedback_jsonl(self.store, state.owner, path)
        except (ChatStoreError, SessionFormatError, OSError) as err:  # the page goes on; the reason is logged
            log.error("exporting feedback failed: %s", err)
            return gr.DownloadButton("Export feedback", value=None, interactive=False)
        return gr.DownloadButton(f"Export feedback ({count})" if count else "Export feedback",
                                 value=str(path) if count else None, interactive=count > 0)

    def wire(self, *, chat: gr.Chatbot, state: gr.State, box: gr.Textbox, save: gr.Button, notice: gr.HTML,
             markdown: gr.DownloadButton, exported: gr.DownloadButton, switched: Sequence[Any] = ()) -> None:
        """`switched`: the page's events that may change its conversation (open a chat, start one, delete one)."""
        outputs = [box, save, notice, markdown, exported]
        for event in switched:
            event.then(closed_comment, [state], [box, save], show_progress="hidden")
        chat.like(self.rate, [chat, state], outputs, show_progress="hidden")
        save.click(self.comment, [box, state], outputs, show_progress="hidden")
        box.submit(self.comment, [box, state], outputs, show_progress="hidden")
