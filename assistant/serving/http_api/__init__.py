"""The HTTP API: OpenAI-compatible `/v1/models` and `/v1/chat/completions`, plus `/v1/ask` and
`/v1/retrieve` returning the library's typed Answer and Passage JSON.

An edge of the library, like the CLI: it imports only the library (never `ui`), needs the `api`
extra (fastapi, uvicorn), and turns typed errors into one-line OpenAI-style error JSON.

    assistant serve --api            # the API alone
    assistant serve                  # the web page and the API on the same port
"""

from __future__ import annotations

from assistant.serving.http_api.app import create_app
from assistant.serving.http_api.auth import check_api_bind, is_loopback
from assistant.serving.http_api.serving import (
    RunningServer,
    serve_api,
    start_api,
    start_server,
)

__all__ = ["RunningServer", "check_api_bind", "create_app", "is_loopback", "serve_api", "start_api", "start_server"]
