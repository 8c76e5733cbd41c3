"""Any OpenAI-compatible server (OpenAI, Ollama, vLLM, LM Studio, the llama.cpp server) over httpx,
streaming server-sent events. The API key comes from the environment variable the settings name.

Token counts: the request asks for them (`stream_options.include_usage`) and the last `usage` the
server sends (OpenAI's comes in a final chunk with no choices; some servers put it on every chunk)
becomes the stream's usage. A server that sends none leaves zeros."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from assistant.config import LLMSettings
from assistant.errors import BackendError
from assistant.llm.base import Prompt, TextStream, as_messages, messages_to_text
from assistant.types import TokenUsage

_CONNECT_TIMEOUT_S = 10.0


class OpenAICompatBackend:
    name = "openai"

    def __init__(self, settings: LLMSettings, *, transport: httpx.BaseTransport | None = None) -> None:
        self._settings = settings
        self._transport = transport
        self.base_url = settings.base_url.rstrip("/")

    @property
    def description(self) -> str:
        return f"model {self._settings.model!r} at {self.base_url}"

    def uses_chat(self) -> bool:
        return self._settings.api != "completions"

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        given = self._settings.api_key
        key = given.get_secret_value() if given is not None else os.environ.get(self._settings.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _request(self, prompt: Prompt, max_tokens: int, stop: Sequence[str]) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {"model": self._settings.model, "max_tokens": max_tokens,
                                "temperature": self._settings.temperature, "stream": True,
                                "stream_options": {"include_usage": True}}
        if stop:
            body["stop"] = list(stop)[:4]  # OpenAI accepts at most four stop sequences
        if self.uses_chat():
            body["messages"] = as_messages(prompt)
            return f"{self.base_url}/chat/completions", body
        body["prompt"] = messages_to_text(prompt)
        return f"{self.base_url}/completions", body

    def complete(self, prompt: Prompt, *, max_tokens: int, stop: Sequence[str] = ()) -> str:
        return "".join(self.stream(prompt, max_tokens=max_tokens, stop=stop))

    def stream(self, prompt: Prompt, *, max_tokens: int, stop: Sequence[str] = ()) -> TextStream:
        return TextStream(self._events(prompt, max_tokens, stop))

    def _events(self, prompt: Prompt, max_tokens: int, stop: Sequence[str]) -> Generator[str | TokenUsage, None, None]:
        url, body = self._request(prompt, max_tokens, stop)
        limit = self._settings.timeout_s
        timeout = httpx.Timeout(limit, connect=min(limit, _CONNECT_TIMEOUT_S))
        deadline = time.monotonic() + limit
        try:
            with httpx.Client(timeout=timeout, transport=self._transport) as client, \
                    client.stream("POST", url, json=body, headers=self._headers()) as response:
                if response.status_code >= 400:
                    detail = response.read().decode("utf-8", "replace").replace("\n", " ")[:200]
                    raise BackendError(f"{url} answered HTTP {response.status_code} for model {self._settings.model!r}: "
                                       f"{detail}", f"check ASSISTANT_LLM_MODEL, the API key in "
                                       f"${self._settings.api_key_env} and ASSISTANT_LLM__API")
                usage: TokenUsage | None = None
                for line in response.iter_lines():
                    if time.monotonic() > deadline:
                        raise self._timeout_error(url)
                    event = _parse_event(line, url)
                    if event is None:
                        break
                    if event.usage is not None:
                        usage = event.usage
                    if event.text:
                        yield event.text
                if usage is not None:
                    yield usage
        except httpx.TimeoutException as exc:
            raise self._timeout_error(url) from exc
        except httpx.HTTPError as exc:
            raise BackendError(f"cannot reach the model server at {url} ({type(exc).__name__}: {exc})",
                               f"start the server serving {self._settings.model!r} or set ASSISTANT_LLM_BASE_URL") from exc

    def _timeout_error(self, url: str) -> BackendError:
        return BackendError(f"the model server at {url} (model {self._settings.model!r}) did not answer within "
                            f"{self._settings.timeout_s:g}s", "check that it is running, or raise ASSISTANT_LLM__TIMEOUT_S")


@dataclass(frozen=True)
class Event:
    """What one server-sent event carries: generated text ('' for none) and token counts, if any."""

    text: str = ""
    usage: TokenUsage | None = None


def _parse_event(line: str, url: str) -> Event | None:
    """One SSE line: an empty Event for comments and keep-alives, None at the end of the stream."""
    line = line.strip()
    if not line.startswith("data:"):
        return Event()
    data = line[len("data:"):].strip()
    if data == "[DONE]":
        return None
    try:
        event = json.loads(data)
    except json.JSONDecodeError as exc:
        raise BackendError(f"{url} sent a malformed event ({data[:80]!r}); is it an OpenAI-compatible server?") from exc
    if isinstance(event, dict) and event.get("error"):
        raise BackendError(f"{url} reported an error: {str(event['error'])[:200]}")
    if not isinstance(event, dict):
        return Event()
    choices = event.get("choices") or [{}]
    choice = choices[0] if isinstance(choices[0], dict) else {}
    delta = choice.get("delta") or {}
    return Event(text=delta.get("content") or choice.get("text") or "", usage=_usage(event.get("usage")))


def _usage(value: object) -> TokenUsage | None:
    """OpenAI's `usage` object as TokenUsage; None when absent (null on all but the last chunk) or not
    counts (a server's own shape: the answer does not depend on it, so it is not an error)."""
    if not isinstance(value, dict):
        return None
    prompt, completion = value.get("prompt_tokens"), value.get("completion_tokens")
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in (prompt, completion)):
        return None
    return TokenUsage(prompt_tokens=prompt, completion_tokens=completion)
