"""The HTTP API's request bodies take JSON's own types only: `true` is not a passage count, "yes" is not a
stream flag, and `n: 3` is refused rather than answered once. Pure checks of the request models and of
the one-line message the API sends for them (the handler in http_api/app.py returns it as a 400)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from assistant.serving.http_api.errors import describe_invalid_request
from assistant.serving.http_api.models import (
    AskRequest,
    ChatCompletionRequest,
    RetrieveRequest,
)

_MESSAGES = [{"role": "user", "content": "Which mill grinds rye on Tuesdays?"}]


def message_for(model: type, body: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    message = describe_invalid_request(caught.value.errors())
    assert "\n" not in message
    return message


@pytest.mark.parametrize(("field", "value"), [
    ("top_k", True), ("top_k", "5"), ("stream", "yes"), ("stream", 1), ("temperature", "hot"),
    ("temperature", 7), ("max_tokens", 0), ("n", 3), ("top_p", 2.5),
])
def test_chat_completion_fields_of_the_wrong_type_or_range_are_named(field: str, value: object) -> None:
    message = message_for(ChatCompletionRequest, {"model": "docs", "messages": _MESSAGES, field: value})
    assert message.startswith(f"invalid request: {field}: ") and repr(value) in message


def test_stream_options_take_a_real_boolean() -> None:
    message = message_for(ChatCompletionRequest, {"model": "docs", "messages": _MESSAGES, "stream": True,
                                                  "stream_options": {"include_usage": "sure"}})
    assert message.startswith("invalid request: stream_options.include_usage: ")


@pytest.mark.parametrize("model, body", [(AskRequest, {"question": "Who?", "top_k": True}),
                                          (RetrieveRequest, {"query": "rye", "top_k": 2.0})])
def test_ask_and_retrieve_take_a_whole_number_of_passages(model: type, body: dict[str, Any]) -> None:
    assert message_for(model, body).startswith("invalid request: top_k: ")


def test_what_openai_clients_send_is_still_accepted() -> None:
    request = ChatCompletionRequest.model_validate({
        "model": "docs", "messages": _MESSAGES, "stream": True, "stream_options": {"include_usage": True},
        "temperature": 0.2, "top_p": 1, "max_tokens": 256, "n": 1, "user": "u-1", "top_k": 4, "seed": 7})
    assert request.stream and request.top_k == 4 and request.stream_options.include_usage
