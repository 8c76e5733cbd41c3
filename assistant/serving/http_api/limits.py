"""A request-body size limit for the API routes, as ASGI middleware.

A body over the limit is a 413 in OpenAI's error shape: refused from its Content-Length before a byte
is read, or, when the client streams it without one, as soon as the bytes read pass the limit."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.serving.http_api.errors import INVALID_REQUEST, error_body

_STATUS = 413


def too_large_message(max_bytes: int) -> str:
    return (f"the request body is over the {max_bytes / (1024 * 1024):g} MB limit; send less "
            "(or raise ASSISTANT_UI__MAX_REQUEST_MB on the server)")


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes the limit. An HTTPException, so FastAPI's body
    parsing passes it on unchanged (it turns other exceptions into a 400) and the app's handler shapes it."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(_STATUS, too_large_message(max_bytes))


def _declared_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodySizeLimit:
    """Refuse request bodies over `max_bytes` on paths under `prefix`."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, prefix: str) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited_receive, send)

    async def _refuse(self, send: Send) -> None:
        body: dict[str, Any] = error_body(too_large_message(self.max_bytes), INVALID_REQUEST, "request_too_large")
        payload = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": _STATUS,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": payload})
