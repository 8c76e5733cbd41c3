"""The Documents panel: the chosen collection's uploaded documents, listed; one is downloaded, or deleted after a
confirm step. A delete removes its chunks in one crash-safe index run (the same library call as the API's and the
CLI's) in a background thread while its row shows "Deleting…"; then the list, the corpus facts and the sources filter
refresh, and the next question answers from the new snapshot.

Its handlers return `DocumentControls.outputs`: the list, the document picker, download, delete, confirm, cancel,
the panel's notice, and the name whose delete awaits confirmation."""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.documents import uploaded_file_path
from assistant.engine_pool import EnginePool
from assistant.errors import AssistantError
from ui import render
from ui.corpus_panel import CorpusPanel
from ui.render_panels import render_documents

log = logging.getLogger(__name__)

PROGRESS_POLL_S = 0.5  # how often a running index job (a delete, an upload) is asked for its latest step
_SKIP2 = (gr.skip(), gr.skip())  # the corpus panel and the sources filter, unchanged until the delete ends


@dataclass(frozen=True)
class DocumentControls:
    listing: gr.HTML
    choice: gr.Dropdown
    download: gr.DownloadButton
    delete: gr.Button
    confirm: gr.Button
    cancel: gr.Button
    notice: gr.HTML
    pending: gr.State  # the document whose delete awaits confirmation

    @property
    def outputs(self) -> list[Any]:
        """What every handler of the panel returns: its fields, in their order."""
        return [getattr(self, f.name) for f in fields(self)]


UNCHANGED = (gr.skip(),) * len(fields(DocumentControls))  # the panel's outputs, left as they are


def controls() -> DocumentControls:
    """The list and its actions, under the file box (created inside the page's Documents accordion)."""
    listing = gr.HTML("", elem_id="documents")
    choice = gr.Dropdown(choices=[], value=None, label="Document", elem_id="document-choice",
                         info="Pick an uploaded document to download or delete it.")
    with gr.Row(elem_classes="doc-actions"):
        download = gr.DownloadButton("Download", elem_id="download-document", size="sm", interactive=False)
        delete = gr.Button("Delete", elem_id="delete-document", size="sm", interactive=False)
        confirm = gr.Button("Confirm delete", elem_id="confirm-delete", size="sm", variant="stop", visible=False)
        cancel = gr.Button("Cancel", elem_id="cancel-delete", size="sm", visible=False)
    notice = gr.HTML("", elem_id="documents-notice")
    pending = gr.State(None)
    return DocumentControls(listing, choice, download, delete, confirm, cancel, notice, pending)


def deleted_message(name: str, collection: str, chunks: int) -> str:
    noun = "chunk" if chunks == 1 else "chunks"
    return f"Deleted {name} and its {chunks} {noun} from collection {collection}."


class DocumentsPanel:
    """The panel's handlers over `pool`; `corpus` refreshes the corpus facts and the filter after a delete."""

    def __init__(self, pool: EnginePool, corpus: CorpusPanel) -> None:
        self.pool, self.corpus = pool, corpus
        self.download_dir = Path(tempfile.mkdtemp(prefix="assistant-document-download-"))

    def download_button(self, collection: str | None, name: str | None) -> Any:
        """A download of the chosen upload: a copy in the page's temp folder (Gradio serves files only from
        there, not from the index folder), kept per name, size and time so that picking it again costs nothing."""
        if not name:
            return gr.DownloadButton(value=None, interactive=False)
        try:
            source = uploaded_file_path(self.pool.collection(collection), name)
        except AssistantError:
            return gr.DownloadButton(value=None, interactive=False)
        facts = source.stat()
        key = hashlib.sha256(f"{collection}\0{name}\0{facts.st_size}\0{facts.st_mtime_ns}".encode()).hexdigest()[:20]
        copy = self.download_dir / key / source.name
        if not copy.is_file():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copy)
        return gr.DownloadButton(value=str(copy), interactive=True)

    def doc_panel(self, collection: str | None, chosen: str | None, notice: str = "") -> tuple[Any, ...]:
        """The panel at rest: the collection's documents, `chosen` still picked when it is still there."""
        try:
            rows = self.pool.document_rows(collection)
        except AssistantError as err:
            return (render.render_notice(str(err)), gr.Dropdown(choices=[], value=None, interactive=True),
                    self.download_button(None, None), gr.Button(visible=True, interactive=False),
                    gr.Button("Confirm delete", visible=False), gr.Button(visible=False), notice, None)
        names = [row.name for row in rows]
        chosen = chosen if chosen in names else None
        return (render_documents(rows, collection or self.pool.served),
                gr.Dropdown(choices=names, value=chosen, interactive=True), self.download_button(collection, chosen),
                gr.Button(visible=True, interactive=chosen is not None),
                gr.Button("Confirm delete", visible=False, interactive=True), gr.Button(visible=False), notice, None)

    def pick_document(self, collection: str | None, chosen: str | None) -> tuple[Any, ...]:
        return self.doc_panel(collection, chosen)

    def ask_to_confirm(self, collection: str | None, chosen: str | None) -> tuple[Any, ...]:
        """First click on Delete: the row and the button ask for confirmation; nothing is deleted yet."""
        if not chosen:
            return self.doc_panel(collection, None, render.render_notice("Pick a document to delete first."))
        try:
            rows = self.pool.document_rows(collection)
        except AssistantError as err:
            return self.doc_panel(collection, chosen, render.render_notice(str(err)))
        row = next((r for r in rows if r.name == chosen), None)
        if row is None:
            return self.doc_panel(collection, None, render.render_notice(f"{chosen} is no longer in this collection."))
        where = collection or self.pool.served
        question = f"Delete {chosen} and its {row.chunks} chunks from collection {where}? This cannot be undone."
        return (render_documents(rows, where, confirming=chosen), gr.skip(), gr.skip(),
                gr.Button(visible=False), gr.Button("Confirm delete", visible=True, interactive=True),
                gr.Button(visible=True, interactive=True), render.render_notice(question, "info"), chosen)

    def delete_document(self, collection: str | None, pending: str | None,
                        selected: list[str] | None) -> Iterator[tuple[Any, ...]]:
        """Confirmed: delete in a background job; the row shows "Deleting…" until its index run ends."""
        if not pending:
            yield *self.doc_panel(collection, None, render.render_notice("Pick a document to delete first.")), *_SKIP2
            return
        where = collection or self.pool.served
        try:
            rows = self.pool.document_rows(collection)
            job = self.pool.remove_in_background([pending], collection)
        except AssistantError as err:
            yield *self.doc_panel(collection, pending, render.render_notice(str(err))), *_SKIP2
            return
        before = next((r.chunks for r in rows if r.name == pending), 0)
        busy = (gr.Dropdown(interactive=False), gr.DownloadButton(interactive=False), gr.Button(visible=False),
                gr.Button("Deleting…", visible=True, interactive=False), gr.Button(visible=False))
        while not job.wait(PROGRESS_POLL_S):  # questions are answered meanwhile from the published snapshot
            yield (render_documents(rows, where, deleting=pending, progress=job.latest), *busy,
                   render.render_notice(f"Deleting {pending}…", "info"), pending, *_SKIP2)
        try:
            job.result()
            notice = render.render_notice(deleted_message(pending, where, before), "ok")
        except AssistantError as err:
            notice = render.render_notice(str(err))
        except Exception as err:  # the page must stay usable; the details go to the server log
            log.exception("deleting %r from %s failed", pending, where)
            notice = render.render_notice(f"Could not delete {pending} ({type(err).__name__}); "
                                          "the server log has the details.")
        yield *self.doc_panel(collection, None, notice), *self.corpus.corpus_view(collection, selected)

    def wire(self, panel: DocumentControls, *, collection: gr.Dropdown, sources: gr.Dropdown, corpus: gr.HTML) -> None:
        outputs = panel.outputs
        panel.choice.input(self.pick_document, [collection, panel.choice], outputs, show_progress="hidden")
        panel.delete.click(self.ask_to_confirm, [collection, panel.choice], outputs, show_progress="hidden")
        panel.cancel.click(self.pick_document, [collection, panel.choice], outputs, show_progress="hidden")
        panel.confirm.click(self.delete_document, [collection, panel.pending, sources], [*outputs, corpus, sources],
                            show_progress="hidden")
