"""Command line: `assistant index | add | collections | documents | remove | ask | chat | info | serve | eval`.

Library errors are typed; here they become one line on stderr and exit code 2. `assistant serve`
starts the web page through its documented entry point, `python -m ui` (the page sits above this
layer, so it is run, not imported); `assistant serve --api` serves the HTTP API alone."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict

from pydantic import ValidationError

from assistant import documents
from assistant._offline import apply_offline_env
from assistant.arguments import make_filter, may_build_on_first_use
from assistant.conversation.session import ChatSession
from assistant.errors import (
    AssistantError,
    ConfigError,
    MissingExtraError,
    UploadError,
)
from assistant.facade import Assistant
from assistant.index.check import check_index, repair_index
from assistant.index.run import IndexReport
from assistant.index.store import SearchFilter, describe_location
from assistant.ingest.uploads import safe_name, sort_uploads
from assistant.serving.cli_args import build_parser, settings_from_args
from assistant.serving.cli_logging import configure_cli_logging
from assistant.serving.cli_render import (
    print_answer,
    print_table,
    shorten,
    terminal_safe,
)

EXIT_USAGE = 2


def _filters(args: argparse.Namespace, engine: Assistant) -> SearchFilter | None:
    """The --source/--date filters; a --source the collection does not hold is an error, not a filter that
    silently leaves nothing to answer from (say, an upload named without its `upload:` prefix)."""
    search_filter = make_filter(args.source, args.date_from, args.date_to)
    # Checked against the loaded index, which this ask builds first when it may build it.
    documents.check_sources(engine, search_filter, listed_by="`assistant documents --all`")
    return search_filter


def _say(message: str) -> None:
    print(terminal_safe(message), file=sys.stderr, flush=True)


def _warn_skipped(skipped: Sequence[tuple[str, str]]) -> None:
    for source, reason in skipped:
        _say(f"warning: skipped {source}: {reason}")


def _print_report_and_load(engine: Assistant, report: IndexReport) -> None:
    """Print what an index run did, then load the new snapshot: with the learned scorer that probes
    the collection for its own abstention threshold (stored, or reused when still fresh), so the
    first `assistant ask` does not pay for it."""
    _warn_skipped(report.skipped)
    print(report.summary())
    try:
        engine.snapshot()
    except AssistantError as err:  # the index is written; only answering from it would fail, and says why
        _say(f"warning: the index is written but could not be loaded to answer from: {err}")
        return
    threshold = engine.info()["abstention_threshold"]
    if threshold is not None:
        # stderr, like progress: stdout's last line stays the run's summary, which scripts read
        print(f"abstention threshold {threshold:.3f} (probed from this collection's text)", file=sys.stderr)


def cmd_index(args: argparse.Namespace) -> int:
    engine = Assistant(settings_from_args(args))
    if args.check or args.repair:
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
    _print_report_and_load(engine, report)
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    """Each file is checked like an upload; refused ones are reported and the rest indexed."""
    engine = Assistant(settings_from_args(args), auto_index=False)
    batch = sort_uploads(((path, safe_name(path.name)) for path in args.files), max_mb=engine.settings.ui.max_upload_mb)
    _warn_skipped(batch.refused)
    if not batch.accepted:
        raise UploadError("none of the files can be indexed; see the warnings above")
    report = engine.add_files([path for path, _ in batch.accepted], names=[name for _, name in batch.accepted],
                              progress=_waits_only)
    if not (report.added or report.changed or report.unchanged):  # every file failed to load: nothing was kept
        _warn_skipped(report.skipped)
        raise UploadError("none of the files can be indexed; see the warnings above")
    _print_report_and_load(engine, report)
    return 0


def cmd_collections(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    found = documents.collection_summaries(settings)
    if args.json:
        print(json.dumps([asdict(c) for c in found], indent=2))
        return 0
    if not found:
        print(f"no collection is built in {describe_location(settings.store)} yet "
              "(build one with: assistant index --corpus PATH --collection NAME)")
        return 0
    print_table(["", "COLLECTION", "DOCUMENTS", "CHUNKS", "UPLOADS", "UPDATED", "PROBLEM"],
                [["*" if c.default else "", c.name, c.documents, c.chunks, c.uploads, c.updated or "-", c.problem]
                 for c in found])
    if any(c.default for c in found):
        print("* the default collection (questions that name none go to it)")
    return 0


def cmd_documents(args: argparse.Namespace) -> int:
    engine = Assistant(settings_from_args(args), auto_index=False)
    indexed = engine.collection_documents()  # a typo'd --collection: the one-line error naming those that exist
    if args.json:
        listing = [asdict(row) for row in indexed] if args.all else [
            {"name": f.name, "source": f.source, "size": f.size, "modified": f.modified, "quarantined": f.quarantined}
            for f in engine.uploaded_files()]
        print(json.dumps(listing, indent=2))
        return 0
    if not args.all:  # the uploaded files first (what `remove` takes), as earlier versions printed them
        files = engine.uploaded_files()
        if not files:
            print("no uploaded documents (add some with: assistant add FILE...)")
        for f in files:
            state = f"  quarantined: {f.quarantined}" if f.quarantined else ""
            print(terminal_safe(f"{f.name}  ({f.size} bytes, uploaded {f.modified}){state}"))
        print()
    print(f"{len(indexed)} document(s) indexed in collection {engine.settings.store.collection}:")
    print_table(["TITLE", "DATE", "SOURCE", "CHUNKS"],
                [[shorten(row.title or "-"), row.date or "-", row.source, row.chunks] for row in indexed])
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    report = Assistant(settings_from_args(args), auto_index=False).remove_documents(args.names, progress=_waits_only)
    print(f"removed {len(report.removed)} document(s); {report.summary()}")
    return 0


def _waits_only(message: str) -> None:
    """--quiet: say only why the run is waiting (another writer), not its progress."""
    if "waiting" in message:
        _say(message)


def _reader(args: argparse.Namespace) -> Assistant:
    """An engine for asking: a collection named without a corpus must already exist (never filled
    from the default corpus by surprise)."""
    return Assistant(settings_from_args(args), auto_index=_may_build(args))


def _may_build(args: argparse.Namespace) -> bool:
    return may_build_on_first_use(args.collection, args.corpus)


def cmd_ask(args: argparse.Namespace) -> int:
    engine = _reader(args)
    answer = engine.ask(args.question, filters=_filters(args, engine))
    if args.json:
        print(json.dumps(answer.to_json_dict(), indent=2, ensure_ascii=False))
    else:
        print_answer(answer)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    engine = _reader(args)
    print("Loading the index...", file=sys.stderr)
    engine.view()
    session = ChatSession(engine=engine, filters=_filters(args, engine))
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
            _say(f"error: {exc}")


def cmd_info(args: argparse.Namespace) -> int:
    info = Assistant(settings_from_args(args)).info()
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            print(terminal_safe(f"{key:16} {value}"))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    if args.api:
        try:  # lazy: fastapi and uvicorn are the optional `api` extra
            from assistant.serving.http_api import serve_api
        except ImportError as exc:
            raise MissingExtraError("The HTTP API", "api", "fastapi and uvicorn") from exc
        serve_api(settings_from_args(args), host=args.host, port=args.port, auto_index=_may_build(args))
        return 0
    if importlib.util.find_spec("gradio") is None or importlib.util.find_spec("ui") is None:
        raise ConfigError("the web UI needs gradio: install it with  pip install -e '.[ui]'")
    settings_from_args(args)  # invalid flags or settings fail here, with the CLI's message
    # The page's own launcher takes over this process (same pid, same exit code and messages).
    command = [sys.executable, "-m", "ui", *_serve_flags(args)]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, command)
    return 0  # not reached: execv replaces the process


def _serve_flags(args: argparse.Namespace) -> list[str]:
    """`assistant serve`'s options as `python -m ui` flags (the corpus resolved as the CLI resolves it)."""
    flags: list[str] = []
    for flag, value in (("--host", args.host), ("--port", args.port), ("--collection", args.collection),
                        ("--corpus", args.corpus.expanduser().resolve() if args.corpus else None)):
        if value is not None:
            flags += [flag, str(value)]
    return flags


HANDLERS = {"add": cmd_add, "collections": cmd_collections, "documents": cmd_documents, "remove": cmd_remove, "index": cmd_index, "ask": cmd_ask, "chat": cmd_chat, "info": cmd_info, "serve": cmd_serve}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    apply_offline_env()
    configure_cli_logging(args.verbose)
    handler = HANDLERS.get(args.command) or args.handler
    try:
        return int(handler(args) or 0)
    except AssistantError as exc:
        _say(f"error: {exc}")
        return EXIT_USAGE
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        message = str(first.get("msg", "")).removeprefix("Value error, ")
        print(f"error: invalid setting {where}: {message} (from the command line, an ASSISTANT_* environment variable or the config file)", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
