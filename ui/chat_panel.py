"""The chat column: ask (streamed, cited answers), Regenerate, Stop, and New conversation.

Handlers only translate between the page and the library: typed errors become messages in the page, and all HTML
comes from `ui.render` (escaped). Each question is answered from the collection this browser chose, by this
session's own model server when it chose one (ui.model_server), with the Settings panel's options; a kept answer is
saved with its chat (ui.chat_persistence). Stop and Regenerate keep their bookkeeping in ui.controls."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant.arguments import make_filter
from assistant.conversation.session import ChatSession
from assistant.engine_pool import EnginePool
from assistant.errors import AssistantError, InvalidArgumentError, InvalidQuestionError
from assistant.types import Answer
from ui import controls, feedback, model_server, render
from ui.chat_persistence import ChatPersistence
from ui.errors import page_text
from ui.settings_panel import AnswerSettings
from ui.state import SessionState

log = logging.getLogger(__name__)

Message = dict[str, str]

_DATE_FIELDS = ("the 'From' date", "the 'To' date")  # how filter messages name the page's date fields
_SKIP2 = (gr.skip(), gr.skip())  # the chat list and export button, unchanged while an answer streams
# The question box is emptied once, when the question is taken; later updates leave it alone, so a draft of
# the next question typed while this answer streams is kept.
_KEEP_BOX = gr.skip()

WELCOME = (
    '<div class="welcome"><div class="welcome-title">Ask a question about your documents</div>'
    "<div>Every answer quotes its sources with numbered citations; open a source to see the exact passage. "
    "Follow-up questions keep the context of the conversation.</div></div>"
)


@dataclass(frozen=True)
class ChatColumn:
    chatbot: gr.Chatbot
    question: gr.Textbox
    ask: gr.Button
    regen: gr.Button
    stop: gr.Button  # shown only while an answer streams (Regenerate hides meanwhile)
    comment: gr.Textbox  # the rated answer's comment (ui.feedback)
    save_comment: gr.Button
    notice: gr.HTML


def chat_column() -> ChatColumn:
    """The chat, the question box and the answer controls (created inside the page's chat column)."""
    chatbot = gr.Chatbot(elem_id="chat", label="Conversation", show_label=False, height="68vh", latex_delimiters=[],
                         placeholder=WELCOME, feedback_options=("Like", "Dislike"), buttons=[], layout="bubble")
    with gr.Row(elem_classes="ask-row"):
        question = gr.Textbox(elem_id="question", label="Question", show_label=False, scale=8, lines=1, max_lines=6,
                              placeholder="Ask a question about the documents…", autofocus=True)
        ask = gr.Button("Ask", elem_id="ask", variant="primary", scale=1, min_width=90)
    with gr.Row(elem_classes="chat-actions"):
        regen = gr.Button("Regenerate", elem_id="regenerate", size="sm", scale=0, min_width=0)
        stop = gr.Button("Stop", elem_id="stop", size="sm", variant="stop", scale=0, min_width=0, visible=False)
    comment, save_comment = feedback.comment_controls()
    notice = gr.HTML("", elem_id="notice")
    return ChatColumn(chatbot, question, ask, regen, stop, comment, save_comment, notice)


def _busy_buttons() -> tuple[Any, Any]:
    """(Regenerate, Stop) while an answer streams."""
    return gr.Button(visible=False), gr.Button(visible=True)


def _idle_buttons() -> tuple[Any, Any]:
    """(Regenerate, Stop) between answers."""
    return gr.Button(visible=True), gr.Button(visible=False)


def _buttons_after(state: SessionState | None) -> tuple[Any, Any]:
    """(Regenerate, Stop) once an ask ended: still busy when it was refused because another answer streams."""
    return _busy_buttons() if state is not None and state.run.active else _idle_buttons()


class ChatPanel:
    """The chat's handlers. `chosen`: the switcher's collection as the pool keys it (ui.corpus_panel); `chats`:
    saving the chat and its Markdown export."""

    def __init__(self, pool: EnginePool, chats: ChatPersistence, chosen: Callable[[str | None], str | None]) -> None:
        self.pool, self.chats, self.chosen = pool, chats, chosen
        self.servers = model_server.SessionEngines(pool)  # engines for sessions that chose their own model server

    def respond(self, message: str, history: list[Message], state: SessionState | None, answerer: str, top_k: float,
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
            state = SessionState(chat=ChatSession(engine=self.pool.primary))
        if state.run.active:  # one answer at a time: the question stays in its box, to be sent once this one ends
            yield gr.skip(), _KEEP_BOX, controls.BUSY_NOTICE, state, *_SKIP2
            return
        try:  # the collection this browser chose: the next question answers from its latest snapshot
            name = self.chosen(collection)
        except AssistantError as err:  # e.g. the chosen collection is gone
            yield history, message, render.render_notice(str(err)), state, *_SKIP2
            return
        try:  # this session's own model server (ui.model_server), else the page's answerer
            state.chat.engine = self.servers.engine_for(state.server, name, answerer)
        except (AssistantError, ValueError) as err:
            said = self.servers.unavailable(state.server, answerer, err)
            yield history, message, render.render_notice(said), state, *_SKIP2
            return
        state.chat.top_k = int(top_k)
        state.chat.filters = filters
        history.append({"role": "user", "content": render.render_question(message)})
        history.append({"role": "assistant", "content": render.render_streaming("")})
        run = state.run.start(message)
        try:
            yield from self._stream(message, history, state, run)
        finally:  # however the stream ended (finished, failed, stopped, the browser gone), the next question may come
            state.run.end(run)

    def _stream(self, message: str, history: list[Message], state: SessionState, run: int) -> Iterator[tuple[Any, ...]]:
        """The answer to `message` as it streams: the chatbot, the question box, a notice, the state, the Chats list
        and the Markdown export (the last two change only when the answer is kept and saved)."""
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
                    problem = self.chats.save(state)
                    chats, listing_problem = self.chats.listing(state)
                    yield (feedback.chatbot(history, state.chat), _KEEP_BOX, render.render_notice(problem) or listing_problem,
                           state, chats, self.chats.export_button(state))
                else:
                    text += piece
                    state.run.partial = text
                    history[-1] = {"role": "assistant", "content": render.render_streaming(text)}
                    yield feedback.chatbot(history, state.chat), _KEEP_BOX, "", state, *_SKIP2
        except InvalidQuestionError as err:  # refused at once (too long, ...): the question goes back to be fixed
            history[-1] = {"role": "assistant", "content": render.render_error(str(err))}
            yield feedback.chatbot(history, state.chat), message, "", state, *_SKIP2
        except AssistantError as err:
            said = page_text(err)
            history[-1] = {"role": "assistant", "content": render.render_error(said)}
            yield feedback.chatbot(history, state.chat), _KEEP_BOX, render.render_notice(said), state, *_SKIP2
        except Exception as err:  # the page must stay usable; the details go to the server log
            log.exception("answering %r failed", message)
            friendly = f"Something went wrong while answering ({type(err).__name__}); the server log has the details."
            history[-1] = {"role": "assistant", "content": render.render_error(friendly)}
            yield feedback.chatbot(history, state.chat), _KEEP_BOX, render.render_notice(friendly), state, *_SKIP2

    def new_conversation(self, state: SessionState | None) -> tuple[Any, ...]:
        if state is not None and state.run.active:  # the streaming answer belongs to the open chat: it stays
            return gr.skip(), gr.skip(), controls.BUSY_NOTICE, state, gr.skip(), gr.skip()
        if state is not None:  # the old chat stays saved; a new one starts with a fresh ChatSession
            state.start_over(self.pool.primary)
        return (feedback.chatbot([], None), "", render.render_notice("Started a new conversation.", "info"), state,
                gr.Radio(value=None), self.chats.export_button(state))

    def regenerate(self, history: list[Message], state: SessionState | None, answerer: str, top_k: float,
                   sources: list[str] | None, date_from: str, date_to: str,
                   collection: str | None = None) -> Iterator[tuple[Any, ...]]:
        """Ask the last question again; its new answer replaces the old one (in the page and in the chat's
        context). The saved chat keeps the old answer until the new one finishes."""
        if state is not None and state.run.active:
            yield gr.skip(), gr.skip(), controls.BUSY_NOTICE, state, *_SKIP2
            return
        asked, drop = controls.last_question(state.chat, state.run) if state is not None else (None, False)
        if asked is None:
            said = render.render_notice("Nothing to regenerate yet: ask a question first.")
            yield history, gr.skip(), said, state, *_SKIP2
            return
        if drop:
            state.chat = controls.without_last_turn(state.chat)
            if state.answers:
                state.answers.pop()
        yield from self.respond(asked, controls.without_last_exchange(history), state, answerer, top_k, sources,
                                date_from, date_to, collection)

    def stop_answer(self, history: list[Message], state: SessionState | None) -> tuple[Any, ...]:
        """Stop was clicked (the streaming event is cancelled by Gradio): mark the answer stopped, or finished."""
        if state is None:
            return history, gr.skip(), *_idle_buttons()
        messages, stopped = controls.stopped_messages(history, state.run)
        said = "Stopped the answer; it was not saved." if stopped else "The answer had already finished; it is kept."
        return messages, render.render_notice(said, "info"), *_idle_buttons()

    def wire(self, column: ChatColumn, *, new_chat: gr.Button, state: gr.State, options: AnswerSettings,
             collection: gr.Dropdown, chats: gr.Radio, markdown: gr.DownloadButton,
             ratings: feedback.Ratings, exported: gr.DownloadButton) -> tuple[list[Any], list[Any]]:
        """Connect the chat; returns (the events that finish an answer, those that start a new conversation)."""
        ask_inputs = [column.question, column.chatbot, state, *options.inputs, collection]
        ask_outputs = [column.chatbot, column.question, column.notice, state, chats, markdown]
        buttons = [column.regen, column.stop]
        answering = []
        for trigger, fn, inputs, regenerating in (
                (column.question.submit, self.respond, ask_inputs, False),
                (column.ask.click, self.respond, ask_inputs, False),
                (column.regen.click, self.regenerate, ask_inputs[1:], True)):
            shown = trigger(_busy_buttons, None, buttons, queue=False, show_progress="hidden")
            running = shown.then(fn, inputs, ask_outputs, show_progress="hidden")
            running.then(_buttons_after, [state], buttons, queue=False, show_progress="hidden")
            answering.append(running)
            if regenerating:  # the regenerated answer's rating went with it
                running.then(ratings.export, [state], [exported], show_progress="hidden")
        # Stop cancels the streaming event; its step already running in a worker is settled by ui.controls.
        column.stop.click(self.stop_answer, [column.chatbot, state], [column.chatbot, column.notice, *buttons],
                          cancels=answering, show_progress="hidden")
        started = [new_chat.click(self.new_conversation, [state], ask_outputs, show_progress="hidden"),
                   column.chatbot.clear(self.new_conversation, [state], ask_outputs, show_progress="hidden")]
        return answering, started
