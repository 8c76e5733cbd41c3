"""The command line's arguments: the subcommands, their options, and the Settings they select."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from assistant.config import Settings, load_settings
from assistant.validation import validate_top_k


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
    # Options only some subcommands take default to None here, so every command's namespace has them all.
    parser.set_defaults(collection=None, corpus=None, top_k=None, answerer=None, handler=None)
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

    collections = commands.add_parser("collections", help="list the built collections: documents, chunks, uploads")
    collections.add_argument("--json", action="store_true")

    documents = commands.add_parser("documents", help="list the collection's uploaded documents (and quarantined ones), "
                                                      "then every indexed document (title, date, source, chunks)")
    documents.add_argument("--collection", help="collection name (default: corpus, or ASSISTANT_COLLECTION)")
    documents.add_argument("--all", action="store_true", help="only the indexed documents' table (with --json: "
                                                              "every indexed document, not the uploaded files)")
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

    try:  # lazy: the eval extra (matplotlib) is optional, and loading it would slow every command's start
        from assistant.evaluation.cli_eval import register
    except ImportError:  # the eval extra (matplotlib) is optional
        pass
    else:
        register(commands)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides: dict[str, dict] = {}
    if args.collection:
        overrides["store"] = {"collection": args.collection}
    if args.corpus:
        overrides["corpus"] = {"path": args.corpus.expanduser().resolve()}
    if args.top_k is not None:
        overrides["retrieval"] = {"top_k": validate_top_k(args.top_k)}
    if args.answerer:
        overrides["answer"] = {"answerer": args.answerer}
    return load_settings(**overrides)
