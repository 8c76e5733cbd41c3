"""Any OpenAI-compatible server (OpenAI, Ollama, vLLM, LM Studio, the llama.cpp server) over httpx,
streaming server-sent events. The API key comes from the environment variable the settings name."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from assistant.config import LLMSettings
from assistant.errors import BackendError
from assistant.llm.base import Prompt, as_messages, messages_to_text

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
        key = os.environ.get(self._settings.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _request(self, prompt: Prompt, max_tokens: int, stop: Sequence[str]) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {"model": self._settings.model, "max_tokens": max_tokens,
                                "temperature": self._settings.temperature, "stream": True}
        if stop:
            body["stop"] = list(stop)[:4]  # OpenAI accepts at most four stop sequences
        if self.uses_chat():
            body["messages"] = as_messages(prompt)
            return f"{self.base_url}/chat/completions", body
        body["prompt"] = messages_to_text(prompt)
        return f"{self.base_url}/completions", body

    def complete(self, prompt: Prompt, *, max_tokens: int, stop: Sequence[str] = ()) -> str:
        return "".join(self.stream(prompt, max_tokens=max_tokens, stop=stop))

    def stream(self, prompt: Prompt, *, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]:
        url, body = self._request(prompt, max_tokens, stop)
        limit = self._settings.timeout_s
        timeout = httpx.Timeout(limit, connect=min(limit, _CONNECT_TIMEOUT_S))
        deadline = time.monotonic() + limit
        try:
            with httpx.Client(timeout=timeout, transport=self._transport) as client:
                with client.stream("POST", url, json=body, headers=self._headers()) as response:
                    if response.status_code >= 400:
                        detail = response.read().decode("utf-8", "replace").replace("\n", " ")[:200]
                        raise BackendError(f"{url} answered HTTP {response.status_code} for model {self._settings.model!r}: "
                                           f"{detail}; check ASSISTANT_LLM_MODEL, the API key in ${self._settings.api_key_env} "
                                           "and ASSISTANT_LLM__API")
                    for line in response.iter_lines():
                        if time.monotonic() > deadline:
                            raise self._timeout_error(url)
                        piece = _parse_event(line, url)
                        if piece is None:
                            break
                        if piece:
                            yield piece
        except httpx.TimeoutException as exc:
            raise self._timeout_error(url) from exc
        except httpx.HTTPError as exc:
            raise BackendError(f"cannot reach the model server at {url} ({type(exc).__name__}: {exc}); start the server "
                               f"serving {self._settings.model!r} or set ASSISTANT_LLM_BASE_URL") from exc

    def _timeout_error(self, url: str) -> BackendError:
        return BackendError(f"the model server at {url} (model {self._settings.model!r}) did not answer within "
                            f"{self._settings.timeout_s:g}s; check that it is running, or raise ASSISTANT_LLM__TIMEOUT_S")


def _parse_event(line: str, url: str) -> str | None:
    """The text in one SSE line: '' for comments and keep-alives, None at the end of the stream."""
    line = line.strip()
    if not line.startswith("data:"):
        return ""
    data = line[len("data:"):].strip()
    if data == "[DONE]":
        return None
    try:
        event = json.loads(data)
    except json.JSONDecodeError as exc:
        raise BackendError(f"{url} sent a malformed event ({data[:80]!r}); is it an OpenAI-compatible server?") from exc
    if isinstance(event, dict) and event.get("error"):
        raise BackendError(f"{url} reported an error: {str(event['error'])[:200]}")
    choices = (event.get("choices") if isinstance(event, dict) else None) or [{}]
    choice = choices[0] if isinstance(choices[0], dict) else {}
    delta = choice.get("delta") or {}
    return delta.get("content") or choice.get("text") or ""
