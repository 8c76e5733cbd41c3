"""Serving an ASGI app with uvicorn in a background thread, and `assistant serve --api`.

The port is bound here, before the server thread starts, so a busy port is a one-line error at
the call instead of a log line from a thread."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

import uvicorn

from assistant.config import Settings
from assistant.conversation.turns import ask_turn
from assistant.engine import AnswerEngine
from assistant.engine_pool import EnginePool
from assistant.errors import ConfigError
from assistant.index.store import describe_location
from assistant.sentences import split_sentences
from assistant.serving.http_api.app import create_app
from assistant.serving.http_api.auth import check_api_bind

_GRACE_S = 5          # open streams get this long to finish when the server stops
_POLL_S = 0.05
_CLOSE_WAIT_S = 30


@dataclass
class RunningServer:
    """An app serving in a background thread; `close()` stops it, `block()` waits for it."""

    server: uvicorn.Server
    thread: threading.Thread
    url: str

    def block(self) -> None:
        while self.thread.is_alive():
            self.thread.join(0.5)  # short joins: Ctrl+C reaches the main thread

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(_CLOSE_WAIT_S)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    try:
        return socket.create_server((host.strip("[]"), port), family=family)
    except OSError as exc:
        raise ConfigError(f"cannot serve on {host}:{port} ({exc.strerror or exc}); is another server using that port? "
                          "Pass --port") from exc


def _url(host: str, sock: socket.socket) -> str:
    host = host.strip("[]") or "0.0.0.0"
    return f"http://{f'[{host}]' if ':' in host else host}:{sock.getsockname()[1]}/"


def start_server(app: Any, host: str, port: int) -> RunningServer:
    """Serve `app` on host:port in a daemon thread; returns once it accepts connections."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"port {port} is not a valid port number (0-65535)")
    sock = _bind(host, port)
    # log_config=None: keep the process's logging as the CLI set it up (uvicorn would replace it).
    config = uvicorn.Config(app, log_config=None, access_log=False, timeout_graceful_shutdown=_GRACE_S, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="http-server", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            sock.close()
            raise ConfigError(f"the server on {host}:{port} stopped while starting; the log above says why")
        time.sleep(_POLL_S)
    return RunningServer(server=server, thread=thread, url=_url(host, sock))


def start_api(settings: Settings, *, host: str | None = None, port: int | None = None, engine: AnswerEngine | None = None,
              auto_index: bool = True, log: Any = print) -> RunningServer:
    """Check the bind, load (or build) the served collection's index, and serve the API without blocking."""
    host = settings.ui.host if host is None else host
    port = settings.ui.port if port is None else port
    check_api_bind(host, port, settings.ui.api_key)
    engine = load_for_serving(settings, engine, auto_index=auto_index, log=log)
    return start_server(create_app(settings, EnginePool(engine)), host, port)


def load_for_serving(settings: Settings, engine: AnswerEngine | None, *, auto_index: bool, log: Any = print) -> AnswerEngine:
    """The served collection's engine with its index, embedder and retrievers loaded (or built) now, not
    on the first request."""
    engine = engine or AnswerEngine(settings, auto_index=auto_index)
    log(f"Loading the index {settings.store.collection!r} from {describe_location(settings.store)} "
        f"(built from {settings.corpus.path} on first start)…")
    engine.view()
    engine.retrieve("warm up", top_k=1)
    split_sentences("Warm up. Loads the sentence model.")  # Punkt's first load takes ~2 s: not on a question
    # One real question loads the answer models and sets their tokenizers' state once, here: two users'
    # simultaneous first questions must not race to do it (HF tokenizers: "Already borrowed").
    ask_turn(engine, "What are these documents about?", top_k=1)
    return engine


class Blocking(Protocol):
    def block(self) -> None: ...
    def close(self) -> None: ...


def serve_until_interrupted(running: Blocking) -> None:
    """Wait for a running server until Ctrl+C, then stop it."""
    try:
        running.block()
    except KeyboardInterrupt:
        pass
    finally:
        running.close()


def serve_api(settings: Settings, host: str | None = None, port: int | None = None, *, auto_index: bool = True) -> None:
    """`assistant serve --api`: serve until Ctrl+C. Raises ConfigError when the bind is unsafe or busy."""
    running = start_api(settings, host=host, port=port, auto_index=auto_index)
    keyed = " (bearer token required)" if settings.ui.api_key else ""
    print(f"Assistant API ready on {running.url}v1{keyed}  (Ctrl+C to stop)", flush=True)
    serve_until_interrupted(running)
