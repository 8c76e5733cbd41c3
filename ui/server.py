"""Starting the page safely: loopback by default, credentials required beyond it.

`serve(settings, host=..., port=...)` is what `python -m ui` calls (`assistant serve` runs `python -m ui`). The page and
the library's HTTP API (/v1, `assistant.serving.http_api`) share one port: the page is mounted on the API's
app. The bind is checked before anything heavy loads, so a refused start is immediate."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError

from assistant._offline import apply_offline_env
from assistant.arguments import may_build_on_first_use
from assistant.config import Settings, load_settings, reveal
from assistant.engine import AnswerEngine
from assistant.engine_pool import EnginePool
from assistant.errors import AssistantError
from assistant.serving.http_api import (
    RunningServer,
    check_api_bind,
    create_app,
    start_server,
)
from assistant.serving.http_api.auth import is_loopback
from assistant.serving.http_api.serving import load_for_serving, serve_until_interrupted
from ui.errors import UIConfigError

_UPLOAD_HARD_CAP_FACTOR = 4  # Gradio itself refuses files this many times over our limit


def check_bind(host: str, port: int, user: str | None, secret: SecretStr | str | None) -> tuple[str, str] | None:
    """The credentials to require, or UIConfigError when the page would be open to the network."""
    if not 0 <= port <= 65535:
        raise UIConfigError(f"port {port} is not a valid port number (0-65535)")
    user, password = (user or "").strip() or None, reveal(secret) or None
    if user and password:
        return (user, password)
    if is_loopback(host):
        if user or password:
            missing = "ASSISTANT_UI_PASSWORD" if user else "ASSISTANT_UI_USER"
            raise UIConfigError(f"{missing} is not set: set both ASSISTANT_UI_USER and ASSISTANT_UI_PASSWORD, or neither")
        return None
    missing = " and ".join(n for n, v in (("ASSISTANT_UI_USER", user), ("ASSISTANT_UI_PASSWORD", password)) if not v)
    raise UIConfigError(
        f"refusing to serve on {host or 'all interfaces'}:{port} without credentials: {missing} "
        f"{'is' if ' and ' not in missing else 'are'} not set. Set ASSISTANT_UI_USER and ASSISTANT_UI_PASSWORD, "
        "or bind to 127.0.0.1 (the default)"
    )


@dataclass
class RunningUI:
    """The page and the API serving in background threads; `close()` stops them."""

    demo: Any
    url: str
    auth: bool
    server: RunningServer

    def block(self) -> None:
        self.server.block()

    def close(self) -> None:
        self.demo.close(verbose=False)  # first: ends the page's open event streams, so the server stops promptly
        self.server.close()


def start(settings: Settings, *, host: str | None = None, port: int | None = None,
          engine: AnswerEngine | None = None, auto_index: bool = True, log: Any = print) -> RunningUI:
    """Check the bind, load (or build) the index, and serve the page and the API without blocking."""
    apply_offline_env()  # the page's launcher: before the preload thread imports gradio
    host = settings.ui.host if host is None else host
    port = settings.ui.port if port is None else port
    auth = check_bind(host, port, settings.ui.user, settings.ui.password)
    check_api_bind(host, port, settings.ui.api_key)
    # Importing gradio takes seconds; overlap it with loading the model and index (~6 s saved on 2 cores).
    preload = threading.Thread(target=_preload_page_modules, name="preload-gradio", daemon=True)
    preload.start()
    engine = load_for_serving(settings, engine, auto_index=auto_index, log=log)
    preload.join()
    # Lazy for start-up speed only: the preload thread above has imported both by now.
    import gradio as gr

    from ui.app import build_app, launch_options

    pool = EnginePool(engine)  # one pool: the page and the API share the served engine and the others
    demo = build_app(pool)
    app = create_app(settings, pool)
    cap = int(settings.ui.max_upload_mb * _UPLOAD_HARD_CAP_FACTOR * 1024 * 1024)
    gr.mount_gradio_app(
        app, demo, path="/", server_name=host, server_port=port, auth=auth, show_error=False, max_file_size=cap,
        ssr_mode=False, footer_links=[],
        auth_message="Sign in with the credentials set in ASSISTANT_UI_USER / ASSISTANT_UI_PASSWORD.",
        **launch_options(),
    )
    server = start_server(app, host, port)
    return RunningUI(demo=demo, url=server.url, auth=auth is not None, server=server)


def _preload_page_modules() -> None:
    """Import the page (and gradio) in a thread while the index loads: start-up speed, not a cycle."""
    try:
        import ui.app  # noqa: F401
    except ImportError:  # the same import in the caller's thread raises it again, with its message
        return


def serve(settings: Settings, host: str | None = None, port: int | None = None, *, auto_index: bool = True) -> None:
    """Serve the page and the API until Ctrl+C. Raises UIConfigError or ConfigError when the bind is unsafe.
    `auto_index=False`: a collection never built is an error, not built from the default corpus."""
    running = start(settings, host=host, port=port, auto_index=auto_index)
    keyed = " (bearer token required)" if settings.ui.api_key else ""
    print(f"OpenAI-compatible API on {running.url}v1{keyed}", flush=True)
    print(f"Assistant ready on {running.url}" + (" (sign-in required)" if running.auth else "") + "  (Ctrl+C to stop)",
          flush=True)
    serve_until_interrupted(running)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ui", description="Serve the assistant's web page.")
    parser.add_argument("--host", help="address to bind (default 127.0.0.1; others need ASSISTANT_UI_USER/PASSWORD and ASSISTANT_API_KEY)")
    parser.add_argument("--port", type=int, help="port (default 7860)")
    parser.add_argument("--corpus", type=Path, help="folder of documents to index on first start (default: bundled corpus)")
    parser.add_argument("--collection", help="Chroma collection name")
    parser.add_argument("--index-dir", type=Path, help="folder of the persistent store")
    parser.add_argument("--answerer", choices=["extractive", "llamacpp", "openai"], help="answer backend")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        overrides: dict[str, dict[str, Any]] = {}
        if args.corpus:
            overrides["corpus"] = {"path": args.corpus}
        store = {k: v for k, v in (("collection", args.collection), ("path", args.index_dir)) if v}
        if store:
            overrides["store"] = store
        if args.answerer:
            overrides["answer"] = {"answerer": args.answerer}
        settings = load_settings(**overrides)
        serve(settings, host=args.host, port=args.port, auto_index=may_build_on_first_use(args.collection, args.corpus))
    except AssistantError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ValidationError as err:  # invalid settings from the environment or flags
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        print(f"error: invalid settings: {problems}", file=sys.stderr)
        return 2
    return 0
