"""Command line: `assistant index | add | documents | remove | ask | chat | info | serve | eval`.

Library errors are typed; here they become one line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from assistant.config import Settings, load_settings
from assistant.errors import AssistantError, ConfigError, MissingExtraError, UploadError
from assistant.validation import validate_top_k

EXIT_USAGE = 2


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2024-06-30") from exc


def _add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--collection", help="collection name (default: corpus, or ASSISTANT_COLLECTION)")
    parser.add_argument("--corpus", type=Path, help="corpus folder or .jsonl file (default: the bundled corpus/)")


def _add_query_options(parser: argparse.ArgumentParser) -> None:
    _add_store_options(parser)
    parser.add_argument("--top-k", type=int, help="passages handed to the answerer")
    parser.add_argument("--answerer", choices=["extractive", "llamacpp", "openai"], help="answer backend")
    parser.add_argument("--source", action="append", default=[], help="only use this document (repeatable)")
    parser.add_argument("--date-from", type=_date, help="only documents dated on/after YYYY-MM-DD")
    parser.add_argument("--date-to", type=_date, help="only documents dated on/before YYYY-MM-DD")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description="Cited answers from your documents.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser("index", help="index a corpus folder or JSONL file (incremental)")
    _add_store_options(index)
    mode = index.add_mutually_exclusive_group()
    mode.add_argument("--rebuild", action="store_true",
                      help="index from scratch into a new Chroma collection (the old one answers until it is done)")
    mode.add_argument("--check", action="store_true",
                      help="verify Chroma, manifest, BM25 and sentence index are in step (exit 1 if not)")
    mode.add_argument("--repair", action="store_true", help="re-derive the manifest and sidecar indexes from Chroma, embedding nothing")
    index.add_argument("--json", action="store_true", help="print --check/--repair results as JSON")
    index.add_argument("--quiet", action="store_true", help="no progress bar")

    add = commands.add_parser("add", help="index some files next to the collection's documents (kept as uploads)")
    add.add_argument("files", nargs="+", type=Path)
    add.add_argument("--collection", help="collection name (default: corpus, or ASSISTANT_COLLECTION)")

    documents = commands.add_parser("documents", help="list the collection's uploaded documents (and quarantined ones)")
    documents.add_argument("--collection", help="collection name (default: corpus, or ASSISTANT_COLLECTION)")
    documents.add_argument("--json", action="store_true")

    remove = commands.add_parser("remove", help="delete uploaded documents: their stored files and their chunks")
    remove.add_argument("names", nargs="+", help="uploaded file names, as `assistant documents` lists them")
    remove.add_argument("--collection", help="collection name (default: corpus, or ASSISTANT_COLLECTION)")

    ask = commands.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the whole Answer as JSON")
    _add_query_options(ask)

    chat = commands.add_parser("chat", help="interactive question prompt (follow-ups understood)")
    _add_query_options(chat)

    info = commands.add_parser("info", help="what is indexed: documents, chunks, model, store")
    _add_store_options(info)
    info.add_argument("--json", action="store_true")

    serve = commands.add_parser("serve", help="start the web UI and the OpenAI-compatible API under /v1 (default http://127.0.0.1:7860)")
    _add_store_options(serve)
    serve.add_argument("--host", help="interface to bind (beyond loopback needs ASSISTANT_UI_USER/PASSWORD and ASSISTANT_API_KEY)")
    serve.add_argument("--port", type=int, help="port (default 7860)")
    serve.add_argument("--api", action="store_true", help="serve only the HTTP API (no web UI, no gradio needed)")

    try:
        from assistant.evaluation.cli_eval import register
    except ImportError:  # the eval extra (matplotlib) is optional
        pass
    else:
        register(commands)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides: dict[str, dict] = {}
    if getattr(args, "collection", None):
        overrides["store"] = {"collection": args.collection}
    if getattr(args, "corpus", None):
        overrides["corpus"] = {"path": args.corpus.expanduser().resolve()}
    if getattr(args, "top_k", None) is not None:
        overrides["retrieval"] = {"top_k": validate_top_k(args.top_k)}
    if getattr(args, "answerer", None):
        overrides["answer"] = {"answerer": args.answerer}
    return load_settings(**overrides)


def _filters(args: argparse.Namespace):
    from assistant.api import make_filter

    return make_filter(args.source, args.date_from, args.date_to)


def _bold(text: str, out) -> str:
    return f"\033[1m{text}\033[0m" if out.isatty() else f"**{text}**"


def print_answer(answer, out=sys.stdout) -> None:
    if answer.kind == "clarification":  # a question back: say so plainly, the candidates follow as sources
        print(_bold("Which one do you mean?", out), file=out)
    elif answer.short_answer and not answer.abstained:
        print(_bold(answer.short_answer, out), file=out)  # the phrase first, the quoted evidence under it
    print(answer.text, file=out)
    for note in answer.notes:  # caveats, e.g. that the configured model failed and this is the fallback
        print(f"Note: {note}", file=out)
    if answer.citations:
        print("\nSources:", file=out)
        for c in answer.citations:
            date = f", {c.date}" if c.date else ""
            print(f"  [{c.n}] {c.title} ({c.source}{date})\n      \u201c{c.quote}\u201d", file=out)
    for sentence in answer.unsupported:
        print(f"  (unsupported by the sources: {sentence})", file=out)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_index(args: argparse.Namespace) -> int:
    from assistant.engine import Assistant

    engine = Assistant(settings_from_args(args))
    if args.check or args.repair:
        from assistant.index.check import check_index, repair_index

        result = repair_index(engine.settings, engine.store, progress=_say) if args.repair else check_index(engine.settings, engine.store)
        if args.json:
            print(json.dumps(result.to_dict(), indent=2))
        else:
            counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
            print(f"{result.collection}: {'consistent' if result.ok else 'NOT consistent'}" + (f" ({counts})" if counts else ""))
            for problem in result.problems:
                print(f"  problem: {problem}")
            for note in result.notes:
                print(f"  note: {note}")
        return 0 if result.ok else 1
    report = engine.index(args.corpus, rebuild=args.rebuild, show_progress=not args.quiet,
                          progress=_waits_only if args.quiet else _say)
    for source, reason in report.skipped:
        print(f"warning: skipped {source}: {reason}", file=sys.stderr)
    print(report.summary())
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    """Each file is checked like an upload; refused ones are reported and the rest indexed."""
    from assistant.engine import Assistant
    from assistant.uploads import safe_name, sort_uploads

    engine = Assistant(settings_from_args(args), auto_index=False)
    batch = sort_uploads(((path, safe_name(path.name)) for path in args.files), max_mb=engine.settings.ui.max_upload_mb)
    for name, reason in batch.refused:
        print(f"warning: skipped {name}: {reason}", file=sys.stderr)
    if not batch.accepted:
        raise UploadError("none of the files can be indexed; see the warnings above")
    report = engine.add_files([path for path, _ in batch.accepted], names=[name for _, name in batch.accepted],
                              progress=_waits_only)
    for source, reason in report.skipped:
        print(f"warning: skipped {source}: {reason}", file=sys.stderr)
    print(report.summary())
    return 0


def cmd_documents(args: argparse.Namespace) -> int:
    from assistant.engine import Assistant

    files = Assistant(settings_from_args(args), auto_index=False).uploaded_files()
    if args.json:
        print(json.dumps([{"name": f.name, "source": f.source, "size": f.size, "modified": f.modified,
                           "quarantined": f.quarantined} for f in files], indent=2))
    elif not files:
        print("no uploaded documents (add some with: assistant add FILE...)")
    for f in files if not args.json else ():
        state = f"  quarantined: {f.quarantined}" if f.quarantined else ""
        print(f"{f.name}  ({f.size} bytes, uploaded {f.modified}){state}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from assistant.engine import Assistant

    report = Assistant(settings_from_args(args), auto_index=False).remove_documents(args.names, progress=_waits_only)
    print(f"removed {len(args.names)} document(s); {report.summary()}")
    return 0


def _waits_only(message: str) -> None:
    """--quiet: say only why the run is waiting (another writer), not its progress."""
    if "waiting" in message:
        _say(message)


def _reader(args: argparse.Namespace):
    """An engine for asking: a collection named without a corpus must already exist (never filled
    from the default corpus by surprise)."""
    from assistant.engine import Assistant

    return Assistant(settings_from_args(args), auto_index=_may_build(args))


def _may_build(args: argparse.Namespace) -> bool:
    from assistant.api import may_build_on_first_use

    return may_build_on_first_use(getattr(args, "collection", None), getattr(args, "corpus", None))


def cmd_ask(args: argparse.Namespace) -> int:
    answer = _reader(args).ask(args.question, filters=_filters(args))
    if args.json:
        print(json.dumps(answer.to_json_dict(), indent=2, ensure_ascii=False))
    else:
        print_answer(answer)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from assistant.chat import ChatSession

    engine = _reader(args)
    print("Loading the index...", file=sys.stderr)
    engine.view()
    session = ChatSession(engine=engine, filters=_filters(args))
    print(f"Ask about {engine.info()['documents']} documents. Commands: /new (new conversation), /quit.", file=sys.stderr)
    while True:
        try:
            message = input("\nyou> ").strip()
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return 0
        if message in ("/quit", "/exit"):
            return 0
        if message == "/new":
            session.reset()
            print("(new conversation)")
            continue
        try:
            for piece in session.stream(message):
                if isinstance(piece, str):
                    continue
                print()
                print_answer(piece)
        except AssistantError as exc:  # a bad question must not end the session
            print(f"error: {exc}", file=sys.stderr)


def cmd_info(args: argparse.Namespace) -> int:
    from assistant.engine import Assistant

    info = Assistant(settings_from_args(args)).info()
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            print(f"{key:16} {value}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    if args.api:
        try:
            from assistant.serving.http_api import serve_api
        except ImportError as exc:
            raise MissingExtraError("The HTTP API", "api", "fastapi and uvicorn") from exc
        serve_api(settings_from_args(args), host=args.host, port=args.port, auto_index=_may_build(args))
        return 0
    try:
        from ui.server import serve
    except ImportError as exc:
        raise ConfigError(f"the web UI needs gradio: install it with  pip install -e '.[ui]'  ({exc})") from exc
    serve(settings_from_args(args), host=args.host, port=args.port, auto_index=_may_build(args))
    return 0


HANDLERS = {"add": cmd_add, "documents": cmd_documents, "remove": cmd_remove, "index": cmd_index, "ask": cmd_ask, "chat": cmd_chat, "info": cmd_info, "serve": cmd_serve}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for handler_ in logging.root.handlers:
        handler_.setLevel(level)  # bm25s sets its own logger to DEBUG on import; filter at the handler
    handler = HANDLERS.get(args.command) or getattr(args, "handler", None)
    try:
        return int(handler(args) or 0)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        message = str(first.get("msg", "")).removeprefix("Value error, ")
        print(f"error: invalid setting {where}: {message} (from the command line, an ASSISTANT_* environment variable or the config file)", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
