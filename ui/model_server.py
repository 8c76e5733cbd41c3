"""The page's "Model server" panel: per browser session, answer extractively (the default) or generatively through
an OpenAI-compatible server the user names (URL, model, optional API key).

A choice is checked before it is kept (an http(s) URL with a host, a model name); a bad one is refused with a
one-line notice and the session keeps its previous choice. A kept choice lives in this browser session's state only
(ui.state.SessionState.server), never in the page's shared settings: each question builds, or reuses, an engine made
by the library's own factories from a validated copy of the page's Settings (`Settings.with_`) with this server as
the 'openai' answerer and `on_backend_error="raise"`, so that an unreachable server is the library's typed
BackendError, shown as a one-line error in place of the answer rather than passed off as a quoted fallback.

The API key typed here goes into that copy of the settings (LLMSettings.api_key, a secret the settings never
show); it is never shown again, logged, saved with a chat or put in the process environment."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import gradio as gr

from assistant.config import Settings
from assistant.engine import AnswerEngine
from assistant.engine_pool import EnginePool
from assistant.errors import InvalidArgumentError
from ui import render

if TYPE_CHECKING:  # typing only: ui.state keeps a ServerChoice, so it imports this module
    from ui.state import SessionState

Mode = Literal["extractive", "openai"]
MODES: tuple[tuple[str, Mode], ...] = (("Extractive (quotes, no model)", "extractive"),
                                        ("Generative, through this server", "openai"))
_ENGINES_KEPT = 8  # engines for sessions' own servers, the least recently used dropped first
_FIELD_MAX = 500


@dataclass(frozen=True)
class ServerChoice:
    """A session's own OpenAI-compatible server: its /v1 base URL, the model to ask and the API key ('' for none)."""

    base_url: str
    model: str
    api_key: str = field(default="", repr=False)

    @property
    def key_id(self) -> str | None:
        """A digest naming this choice's API key among cached engines, never the key itself (None: no key)."""
        return hashlib.sha256(self.api_key.encode("utf-8")).hexdigest()[:24] if self.api_key else None


def check_url(text: object) -> str:
    """An OpenAI-compatible server's base URL, without a trailing '/'; InvalidArgumentError (one line) unless it is
    http(s) with a host."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgumentError("the server URL is empty: give its OpenAI-compatible base, e.g. http://127.0.0.1:8080/v1")
    url = text.strip()
    shown = url if len(url) <= 80 else url[:79] + "…"
    if len(url) > _FIELD_MAX or any(c.isspace() for c in url):
        raise InvalidArgumentError(f"the server URL {shown!r} is not a URL (spaces or too long)")
    try:
        parts = urlsplit(url)
        _port = parts.port  # read for its check: ValueError for a port that is not a number in range
    except ValueError as err:
        raise InvalidArgumentError(f"the server URL {shown!r} is not a valid URL ({err})") from err
    if parts.scheme.lower() not in {"http", "https"}:
        raise InvalidArgumentError(f"the server URL {shown!r} must start with http:// or https://")
    if not parts.hostname:
        raise InvalidArgumentError(f"the server URL {shown!r} names no host")
    return url.rstrip("/")


def make_choice(mode: object, url: object, model: object, api_key: object) -> ServerChoice | None:
    """What the panel's fields ask for: None for extractive answers, else a checked ServerChoice;
    InvalidArgumentError (one line) naming the first field that is wrong."""
    if mode == "extractive":
        return None
    if mode != "openai":
        raise InvalidArgumentError(f"unknown answer mode {mode!r}: choose extractive or generative")
    base_url = check_url(url)
    name = model.strip() if isinstance(model, str) else ""
    if not name or len(name) > _FIELD_MAX or "\n" in name:
        raise InvalidArgumentError("give the model name the server knows (e.g. the one its /v1/models lists)")
    key = api_key.strip() if isinstance(api_key, str) else ""
    if len(key) > _FIELD_MAX or any(c.isspace() for c in key):
        raise InvalidArgumentError("the API key cannot hold spaces or line breaks")
    return ServerChoice(base_url, name, key)


def session_settings(settings: Settings, choice: ServerChoice, collection: str) -> Settings:
    """A validated copy of the page's `settings` answering `collection` through `choice` (the page's own settings
    are not touched)."""
    llm: dict[str, Any] = {"base_url": choice.base_url, "model": choice.model}
    if choice.api_key:
        llm["api_key"] = choice.api_key
    return settings.with_(store={"collection": collection}, answer={"answerer": "openai", "on_backend_error": "raise"},
                          llm=llm)


class SessionEngines:
    """Engines for sessions' own servers, sharing the pool's models (embedder, scorer, reader) as the pool's engines
    do; sessions that chose the same server and collection share one engine (and its loaded index)."""

    def __init__(self, pool: EnginePool) -> None:
        self.pool = pool
        self._engines: OrderedDict[tuple[str, str, str, str | None], AnswerEngine] = OrderedDict()
        self._lock = threading.Lock()

    def engine_for(self, choice: ServerChoice | None, collection: str | None, answerer: str | None) -> AnswerEngine:
        """What a session's question is answered with: its own server's engine when it chose one, else the pool's
        engine of `collection` (None: the served one) and the page's `answerer`."""
        if choice is not None:
            return self.engine(choice, collection)
        return self.pool.get(collection, answerer, auto_index=False if collection else None)

    @staticmethod
    def unavailable(choice: ServerChoice | None, answerer: str | None, err: Exception) -> str:
        """One line: why `engine_for` could not give an engine."""
        said = f"The model server {choice.base_url}" if choice is not None else f"Answerer {answerer!r}"
        return f"{said} is not available: {err}"

    def engine(self, choice: ServerChoice, collection: str | None) -> AnswerEngine:
        """The engine answering `collection` (None: the served one) through `choice`."""
        name = collection or self.pool.served
        key = (name, choice.base_url, choice.model, choice.key_id)
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                primary = self.pool.primary
                engine = AnswerEngine(session_settings(self.pool.settings, choice, name), embedder=primary.embedder,
                                      answer_scorer=primary.answer_scorer, span_reader=primary.short_answer_reader,
                                      auto_index=False)
                self._engines[key] = engine
                while len(self._engines) > _ENGINES_KEPT:
                    self._engines.popitem(last=False)
            self._engines.move_to_end(key)
            return engine


# -- the panel ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ServerPanel:
    mode: gr.Radio
    url: gr.Textbox
    model: gr.Textbox
    api_key: gr.Textbox
    apply: gr.Button
    notice: gr.HTML


def panel() -> ServerPanel:
    """The "Model server" accordion, collapsed: how this browser session's questions are answered."""
    with gr.Accordion("Model server", open=False, elem_id="model-server"):
        mode = gr.Radio(choices=list(MODES), value="extractive", label="Answers", elem_id="answer-mode",
                        info="For this browser session only. Generative answers come from the server below (its "
                             "citations are checked against the passages); it overrides the Answerer setting.")
        url = gr.Textbox(label="Server URL (OpenAI-compatible)", elem_id="server-url", lines=1, max_lines=1,
                         placeholder="http://127.0.0.1:8080/v1")
        model = gr.Textbox(label="Model", elem_id="server-model", lines=1, max_lines=1,
                           placeholder="The name the server knows the model by")
        api_key = gr.Textbox(label="API key (optional)", type="password", elem_id="server-key", lines=1, max_lines=1,
                             placeholder="Only if the server asks for one; never shown again or saved")
        apply = gr.Button("Use these settings", elem_id="apply-server", size="sm")
        notice = gr.HTML("", elem_id="server-notice")
    return ServerPanel(mode, url, model, api_key, apply, notice)


def apply(mode: str, url: str, model: str, api_key: str, state: SessionState | None) -> str:
    """Keep the panel's choice for this session, or refuse it in one line (the previous choice stays)."""
    if state is None:
        return render.render_notice("The page is still loading: try again in a moment.")
    try:
        choice = make_choice(mode, url, model, api_key)
    except InvalidArgumentError as err:
        kept = describe(state.server)
        message = str(err)
        return render.render_notice(f"{message[:1].upper()}{message[1:]}; still {kept}.")
    state.server = choice
    return render.render_notice(f"Answers in this browser session are now {describe(choice)}.", "ok")


def describe(choice: ServerChoice | None) -> str:
    if choice is None:
        return "extractive (quoted from the passages)"
    keyed = " with an API key" if choice.api_key else ""
    return f"generated by model {choice.model!r} at {choice.base_url}{keyed}"


def wire(parts: ServerPanel, state: gr.State) -> None:
    inputs = [parts.mode, parts.url, parts.model, parts.api_key, state]
    parts.apply.click(apply, inputs, [parts.notice], show_progress="hidden")
