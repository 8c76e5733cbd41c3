"""A collection's documents, written through an engine: index a corpus, add uploaded files, remove
them, list them. Each write is one crash-safe index run (assistant.index.run); the engine then
re-reads the manifest, so the next question answers from the new snapshot.

The store's collections and each one's indexed documents are listed from the manifests alone
(`collection_summaries`, `collection_documents`): listing never loads an index or a model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings
from assistant.engine import AnswerEngine
from assistant.errors import (
    DocumentNotFoundError,
    IndexCorruptError,
    IndexMismatchError,
    InvalidArgumentError,
    UploadError,
)
from assistant.index import registry
from assistant.index.manifest import (
    built_collections,
    read_manifest,
    unknown_collection,
)
from assistant.index.run import (
    IndexReport,
    Progress,
    add_documents,
    build_index,
    built_manifest,
    remove_from_index,
)
from assistant.index.store import SearchFilter
from assistant.ingest.loaders import LoadReport, record_file
from assistant.ingest.uploads import (
    UPLOAD_SOURCE_PREFIX,
    UploadedDocument,
    UploadedFile,
    describe_uploads,
    discard_staged,
    list_uploads,
    load_uploads,
    safe_name,
    stage_upload,
    upload_file_path,
    upload_source,
)
from assistant.types import Document


def index_corpus(engine: AnswerEngine, corpus: Path | str | None = None, *, rebuild: bool = False,
                 show_progress: bool = False, progress: Progress | None = None) -> IndexReport:
    """Make the collection mirror `corpus` (default: the one it was built from, else the configured one)."""
    corpus_path = Path(corpus).expanduser() if corpus is not None else None
    report = build_index(engine.settings, engine.embedder, engine.store, corpus=corpus_path, rebuild=rebuild,
                         show_progress=show_progress, progress=progress)
    engine.refresh()
    return report


def add_files(engine: AnswerEngine, paths: Sequence[Path | str], *, names: Sequence[str] | None = None,
              progress: Progress | None = None) -> IndexReport:
    """Index some files (uploads) next to what is already there. Each is loaded before it is
    stored: one that cannot be loaded is refused (in `report.skipped`) and leaves nothing behind;
    the others are kept in the collection's uploads folder under their names (default: the
    file's own), so a rebuild re-reads them. Nothing indexed is lost."""
    files = [Path(p).expanduser() for p in paths]
    names = list(names) if names is not None else [p.name for p in files]
    if len(names) != len(files):
        raise ValueError(f"add_files got {len(files)} paths but {len(names)} names; pass one name per path")
    built_manifest(engine.settings)  # a collection that is not built: say so before storing any file
    documents: list[Document] = []
    skipped: list[tuple[str, str]] = []
    for path, name in zip(files, names):
        try:
            loaded = _store_loadable(engine, path, name)
        except UploadError as err:
            skipped.append((upload_source(safe_name(name)), str(err)))
            continue
        documents.extend(loaded.documents)
        skipped.extend(loaded.skipped)  # records of a .json/.jsonl file that had no text
    report = add_documents(engine.settings, engine.embedder, engine.store, documents, skipped=skipped, progress=progress)
    engine.refresh()
    return report


def _store_loadable(engine: AnswerEngine, path: Path, name: str) -> LoadReport:
    """Stage one upload, load it there, and store it only when it yields documents."""
    staged = stage_upload(engine.settings, path, name)
    loaded = load_uploads([staged], engine.settings)
    if not loaded.documents:
        discard_staged(staged)
        reason = loaded.skipped[0][1] if loaded.skipped else "no text to index"
        raise UploadError(reason)  # callers name the file
    registry.publish_staged(engine.settings, staged)
    return loaded


def uploaded_files(engine: AnswerEngine) -> list[UploadedFile]:
    """The collection's uploaded files (stored and quarantined)."""
    return list_uploads(engine.settings)


def uploaded_documents(engine: AnswerEngine) -> list[UploadedDocument]:
    """The uploaded files with the chunks the published index holds of each (from the manifest alone:
    listing another collection's uploads does not load its index)."""
    manifest = read_manifest(engine.settings)
    return describe_uploads(list_uploads(engine.settings), manifest.documents if manifest else {})


def uploaded_file_path(engine: AnswerEngine, name: str) -> Path:
    """Where an uploaded file lies (to download it); DocumentNotFoundError when there is none."""
    path = upload_file_path(engine.settings, name)
    if path is None:
        available = [item.name for item in list_uploads(engine.settings)]
        raise DocumentNotFoundError(engine.settings.store.collection, [safe_name(name)], available)
    return path


def remove_documents(engine: AnswerEngine, names: Sequence[str], *, progress: Progress | None = None) -> IndexReport:
    """Delete uploaded documents: their files first, then their chunks in one index run (a kill
    between the two leaves files gone and chunks that the next run removes). Unknown names are
    refused before anything is deleted."""
    settings = engine.settings
    wanted = [safe_name(name) for name in names]
    known = {item.name for item in list_uploads(settings)}
    manifest = read_manifest(settings)
    indexed = {source.removeprefix(UPLOAD_SOURCE_PREFIX) for source, entry in (manifest.documents.items() if manifest else ())
               if entry.origin == "upload"}
    missing = [name for name in wanted if name not in known | indexed]
    if not wanted or missing:
        raise DocumentNotFoundError(settings.store.collection, missing or ["(no name given)"], sorted(known | indexed))
    for name in wanted:
        registry.remove_upload(settings, name)
    scope = {upload_source(name) for name in wanted}
    scope |= {source for source in (manifest.documents if manifest else ()) if record_file(source) in scope}
    if manifest is None or manifest.snapshot is None or not scope & set(manifest.documents):
        return IndexReport(collection=settings.store.collection)
    report = remove_from_index(settings, engine.embedder, engine.store, scope, progress=progress)
    engine.refresh()
    return report


# -- the store's collections and their documents, from the manifests alone ------------------------------

@dataclass(frozen=True)
class CollectionSummary:
    """One built collection of the store, as `assistant collections`, GET /v1/collections and the page list it.
    `problem`: why its manifest could not be read (it is listed all the same, with zero counts)."""

    name: str
    documents: int
    chunks: int
    uploads: int
    updated: str | None
    default: bool
    problem: str | None = None


@dataclass(frozen=True)
class DocumentRow:
    """One indexed document of a collection. `upload`: the uploaded file it came from (what `remove` and a
    download take; a .jsonl upload's records share one), None for a corpus document."""

    source: str
    title: str
    date: str | None  # ISO date, None when the document has none
    chunks: int
    upload: str | None = None


def collection_summaries(settings: Settings, names: Sequence[str] | None = None) -> list[CollectionSummary]:
    """The collections built where `settings` keep them (or `names`, e.g. what a server offers),
    `settings`' own first: that is the default one, which questions go to unless another is named."""
    default = settings.store.collection
    found = list(names) if names is not None else built_collections(settings)
    ordered = [default] if default in found else []
    return [_summary(settings.with_(store={"collection": name}), default=name == default)
            for name in ordered + [name for name in found if name != default]]


def _summary(settings: Settings, *, default: bool) -> CollectionSummary:
    name = settings.store.collection
    try:
        manifest = read_manifest(settings)
    except (IndexCorruptError, IndexMismatchError) as err:  # listed all the same; the error says what to run
        return CollectionSummary(name, 0, 0, 0, None, default, problem=str(err))
    if manifest is None:  # e.g. the served collection while its first build runs
        return CollectionSummary(name, 0, 0, 0, None, default)
    uploads = {_upload_name(source) for source, entry in manifest.documents.items() if entry.origin == "upload"}
    return CollectionSummary(name, len(manifest.documents), manifest.chunks, len(uploads), manifest.updated or None, default)


def collection_documents(settings: Settings, *, existing: Sequence[str] | None = None,
                         say_where: bool = True) -> list[DocumentRow]:
    """Every document the published index of `settings`' collection holds, by source. A collection never
    built is the one-line error naming those that exist (`existing`, `say_where`: see unknown_collection)."""
    manifest = read_manifest(settings)
    if manifest is None:
        if existing is not None and settings.store.collection in existing:
            return []  # offered but not built yet (a server's collection during its first build)
        raise unknown_collection(settings, settings.store.collection, existing=existing, say_where=say_where)
    return [DocumentRow(source=source, title=entry.title, date=entry.date, chunks=entry.chunks,
                        upload=_upload_name(source) if entry.origin == "upload" else None)
            for source, entry in sorted(manifest.documents.items())]


def check_sources(engine: AnswerEngine, search_filter: SearchFilter | None, *, listed_by: str) -> None:
    """A sources filter naming a document the collection does not hold is a one-line InvalidArgumentError, not a
    filter that silently leaves nothing to answer from (say, an upload named without its `upload:` prefix). Checked
    against the snapshot that answers (no manifest read per request). `listed_by`: where this edge's user finds the
    sources (a command, an endpoint)."""
    if search_filter is None or not search_filter.sources:
        return
    known = engine.view().manifest.documents
    for source in search_filter.sources:
        if source not in known:
            hint = f"; did you mean {UPLOAD_SOURCE_PREFIX}{source}?" if UPLOAD_SOURCE_PREFIX + source in known else ""
            raise InvalidArgumentError(f"collection '{engine.settings.store.collection}' has no document {source}{hint} "
                                       f"({listed_by} lists the sources it holds)")


def _upload_name(source: str) -> str:
    """The uploaded file a document came from: `upload:notes.md` and `upload:log.jsonl#r1` -> the file's name."""
    return (record_file(source) or source).removeprefix(UPLOAD_SOURCE_PREFIX)
