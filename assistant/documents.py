"""A collection's documents, written through an engine: index a corpus, add uploaded files, remove
them, list them. Each write is one crash-safe index run (assistant.index.run); the engine then
re-reads the manifest, so the next question answers from the new snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from assistant.engine import AnswerEngine
from assistant.errors import DocumentNotFoundError, UploadError
from assistant.index import registry
from assistant.index.manifest import read_manifest
from assistant.index.run import IndexReport, Progress, add_documents, build_index, remove_from_index
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
