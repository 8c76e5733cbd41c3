"""Errors as the API answers them: OpenAI's shape `{"error": {"message", "type", "code", "param"}}`,
with one-line messages. Typed library errors map to a status here and nowhere else."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.responses import JSONResponse

from assistant.errors import (
    AssistantError,
    BackendError,
    DiskSpaceError,
    DocumentNotFoundError,
    IndexBusyError,
    IndexCorruptError,
    IndexIncompleteError,
    IndexMismatchError,
    IndexMissingError,
    InvalidArgumentError,
    InvalidQuestionError,
    StoreUnavailableError,
    UploadError,
)

INVALID_REQUEST = "invalid_request_error"
SERVER_ERROR = "server_error"
# FastAPI answers a body that its JSON decoding raised on (other than a syntax error, e.g. nesting deeper
# than Python's recursion limit) with this detail; the API says what to send instead.
UNPARSED_BODY = "There was an error parsing the body"
UNPARSED_BODY_MESSAGE = ("the request body could not be read as JSON (nested too deeply, or not JSON); "
                         "send a plain JSON object")


class ApiError(AssistantError):
    """A request the HTTP edge itself refuses (authentication, a malformed body)."""

    def __init__(self, status: int, message: str, *, kind: str = INVALID_REQUEST, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.code = code


# First match wins: (error type, HTTP status, OpenAI error type, code).
_MAPPING: tuple[tuple[type[AssistantError], int, str, str], ...] = (
    (InvalidQuestionError, 400, INVALID_REQUEST, "invalid_question"),
    (InvalidArgumentError, 400, INVALID_REQUEST, "invalid_argument"),
    (UploadError, 400, INVALID_REQUEST, "invalid_upload"),
    (IndexMissingError, 404, INVALID_REQUEST, "model_not_found"),
    (DocumentNotFoundError, 404, INVALID_REQUEST, "document_not_found"),
    (IndexBusyError, 409, INVALID_REQUEST, "index_busy"),
    (BackendError, 502, SERVER_ERROR, "backend_error"),
    (DiskSpaceError, 507, SERVER_ERROR, "insufficient_storage"),
    (IndexMismatchError, 503, SERVER_ERROR, "index_unavailable"),
    (IndexCorruptError, 503, SERVER_ERROR, "index_unavailable"),
    (IndexIncompleteError, 503, SERVER_ERROR, "index_unavailable"),
    (StoreUnavailableError, 503, SERVER_ERROR, "index_unavailable"),
)


def error_body(message: str, kind: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": code, "param": None}}


def classify(exc: AssistantError) -> tuple[int, str, str | None]:
    """(HTTP status, OpenAI error type, code) for a library or API error."""
    if isinstance(exc, ApiError):
        return exc.status, exc.kind, exc.code
    for kind_of, status, kind, code in _MAPPING:
        if isinstance(exc, kind_of):
            return status, kind, code
    return 500, SERVER_ERROR, "assistant_error"


def error_response(exc: AssistantError) -> JSONResponse:
    status, kind, code = classify(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(error_body(str(exc), kind, code), status_code=status, headers=headers)


def describe_invalid_request(errors: Sequence[Any]) -> str:
    """The first problem of a request body that failed validation, as one line naming the field."""
    if not errors:
        return "invalid request body"
    first = errors[0]
    loc = [part for part in first.get("loc", ()) if part != "body"]
    if first.get("type") == "json_invalid":
        return f"the request body is not valid JSON ({first.get('ctx', {}).get('error', first.get('msg'))}); send a JSON object"
    if not loc:
        return f"the request body is {'missing' if first.get('type') == 'missing' else 'not a JSON object'}; send a JSON object"
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
    shown = repr(first.get("input"))
    got = f" (got {shown if len(shown) <= 60 else shown[:57] + '...'})" if first.get("type") != "missing" else ""
    more = f"; and {len(errors) - 1} more problem(s)" if len(errors) > 1 else ""
    return f"invalid request: {where}: {first.get('msg', 'invalid value')}{got}{more}"
