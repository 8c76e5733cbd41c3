"""The Documents panel's file box: checks the dropped files (ui.uploads), indexes the accepted ones into the chosen
collection in a background job while a progress bar moves, then says what was added and why each refused file was
refused, and refreshes the corpus facts, the sources filter and the document list."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.config import Settings
from assistant.engine_pool import EnginePool
from assistant.errors import AssistantError
from assistant.ingest.loaders import record_file
from assistant.ingest.uploads import UPLOAD_SOURCE_PREFIX, upload_source
from ui import render
from ui.corpus_panel import CorpusPanel
from ui.documents_panel import (
    PROGRESS_POLL_S,
    UNCHANGED,
    DocumentControls,
    DocumentsPanel,
)
from ui.render_panels import render_progress, render_upload_result
from ui.theme import SHOW_UPLOAD_STATUS_JS
from ui.uploads import UPLOAD_EXTENSIONS, accept_uploads

log = logging.getLogger(__name__)


def file_box(settings: Settings) -> tuple[gr.File, gr.HTML]:
    """(the file box, the upload's status line), at the top of the Documents accordion."""
    files = gr.File(label=f"Add documents ({', '.join(UPLOAD_EXTENSIONS)}; up to {settings.ui.max_upload_mb:g} MB each)",
                    file_count="multiple", type="filepath", elem_id="upload")
    return files, gr.HTML("", elem_id="upload-status")


def _touches(name: str, sources: list[str]) -> bool:
    """Whether the uploaded file `name` is among `sources`: as one document, or as its records."""
    return upload_source(name) in {record_file(source) or source for source in sources}


class UploadPanel:
    """The upload handler: the pool's settings set the size limit; `corpus` and `documents` refresh after it."""

    def __init__(self, pool: EnginePool, corpus: CorpusPanel, documents: DocumentsPanel) -> None:
        self.pool, self.corpus, self.documents = pool, corpus, documents

    def upload(self, files: list[str] | None, collection: str | None, selected: list[str] | None,
               chosen: str | None) -> Iterator[tuple[Any, ...]]:
        """Yields (status, corpus, sources filter, file box, *DocumentControls.outputs)."""
        paths = [Path(f) for f in (files or [])]
        if not paths:
            return
        batch = accept_uploads(paths, self.pool.settings)
        refused = list(batch.refused)
        indexed: list[str] = []
        replaced: list[str] = []
        same: list[str] = []
        summary = ""
        where = collection or self.pool.served
        if batch.accepted:
            names = ", ".join(name for _, name in batch.accepted)
            try:
                job = self.pool.add_files_in_background(batch.accepted, collection)
            except AssistantError as err:  # e.g. the chosen collection is gone
                yield (render.render_notice(str(err)), gr.skip(), gr.skip(), None,
                       *self.documents.doc_panel(collection, chosen))
                return
            steps = 0
            unchanged = (gr.skip(), gr.skip(), gr.skip(), *UNCHANGED)  # all but the status line
            # Others' questions are answered meanwhile; this only polls the job for its progress.
            while not job.wait(PROGRESS_POLL_S):
                steps += 1
                yield render_progress(f"Indexing {names}: {job.latest}", min(steps, 95), 100), *unchanged
            try:
                report = job.result()
            except AssistantError as err:
                refused.extend((name, str(err)) for _, name in batch.accepted)
            except Exception as err:  # the page must stay usable; the details go to the server log
                log.exception("indexing uploads %s failed", names)
                refused.extend((name, f"could not be indexed ({type(err).__name__}); the server log has the details")
                               for _, name in batch.accepted)
            else:
                failed = {source for source, _ in report.skipped}
                refused.extend((source.removeprefix(UPLOAD_SOURCE_PREFIX), reason) for source, reason in report.skipped)
                kept = [name for _, name in batch.accepted if upload_source(name) not in failed]
                replaced = [name for name in kept if _touches(name, report.changed)]
                same = [name for name in kept if not _touches(name, [*report.changed, *report.added])]
                indexed = [name for name in kept if name not in replaced and name not in same]
                summary = (f"Collection {where} now holds {report.documents} documents, {report.chunks} chunks "
                           f"(indexed in {report.seconds:.1f} s).")
        corpus_html, dropdown = self.corpus.corpus_view(collection, selected)
        yield (render_upload_result(indexed, refused, summary, replaced=replaced, same=same),
               corpus_html, dropdown, None, *self.documents.doc_panel(collection, chosen))

    def wire(self, files: gr.File, status: gr.HTML, *, collection: gr.Dropdown, sources: gr.Dropdown,
             corpus: gr.HTML, documents: DocumentControls) -> None:
        outputs = [status, corpus, sources, files, *documents.outputs]
        # Then the status line is scrolled into view: the result may be below the fold (the list grew above it).
        files.upload(self.upload, [files, collection, sources, documents.choice], outputs,
                     show_progress="minimal").then(None, js=SHOW_UPLOAD_STATUS_JS)

