"""The FastAPI app: routes under /v1, each a thin translation to the engine of one collection.

Handlers are plain functions, so FastAPI runs them (and a stream's iteration) in its thread pool:
answering is CPU work, and the event loop stays free for other requests."""

from __future__ import annotations

import itertools
import tempfile
from dataclasses import asdict
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException

from assistant import documents
from assistant._offline import apply_offline_env
from assistant.api import RETRIEVE_TOP_K
from assistant.arguments import DateLike, SourcesLike, as_turns, make_filter
from assistant.config import Settings
from assistant.conversation.turns import ask_turn, stream_turn
from assistant.engine import AnswerEngine
from assistant.engine_pool import EnginePool
from assistant.errors import AssistantError
from assistant.index.store import SearchFilter
from assistant.ingest.uploads import UPLOAD_SOURCE_PREFIX
from assistant.serving.http_api.auth import bearer_check, configured_key
from assistant.serving.http_api.errors import (
    INVALID_REQUEST,
    SERVER_ERROR,
    UNPARSED_BODY,
    UNPARSED_BODY_MESSAGE,
    ApiError,
    describe_invalid_request,
    error_body,
    error_response,
)
from assistant.serving.http_api.limits import BodySizeLimit, BodyTooLarge
from assistant.serving.http_api.models import (
    AskRequest,
    ChatCompletion,
    ChatCompletionRequest,
    CollectionDocumentList,
    CollectionInfo,
    CollectionList,
    DocumentInfo,
    DocumentList,
    DocumentsResponse,
    IndexedDocumentInfo,
    ModelCard,
    ModelList,
    RemovedResponse,
    RetrieveRequest,
    RetrieveResponse,
    SkippedFile,
)
from assistant.serving.http_api.openai_shape import (
    chat_completion,
    conversation,
    sse_events,
)
from assistant.serving.http_api.uploads import receive_uploads
from assistant.types import Answer


def create_app(settings: Settings, engines: EnginePool) -> FastAPI:
    """The API over `engines`. With `settings.ui.api_key` set, every /v1 route needs that bearer token;
    whether serving without one is safe is the caller's check (`check_api_bind`)."""
    apply_offline_env()  # an entry point: an app served by another ASGI server gets no CLI that sets it
    key = configured_key(settings.ui.api_key)
    # No /docs or /openapi.json: the page may be mounted at "/" with its own sign-in, and those routes
    # would sit outside both its sign-in and the bearer check.
    app = FastAPI(title="assistant", docs_url=None, redoc_url=None, openapi_url=None)
    router = APIRouter(prefix="/v1", dependencies=[Depends(bearer_check(key))])

    @router.get("/models")
    def list_models() -> ModelList:
        return ModelList(data=[ModelCard(id=name, created=engines.created(name)) for name in engines.collections()])

    @router.get("/models/{model}")
    def get_model(model: str) -> ModelCard:
        engines.collection(model)  # IndexMissingError (404) for an unknown one
        return ModelCard(id=model, created=engines.created(model))

    @router.get("/collections")
    def list_collections() -> CollectionList:
        """The built collections with their counts, the served (default) one first."""
        data = [CollectionInfo(**asdict(c)) for c in documents.collection_summaries(engines.settings, engines.collections())]
        return CollectionList(default=engines.served, data=data)

    @router.get("/collections/{name}/documents")
    def collection_documents(name: str) -> CollectionDocumentList:
        """Every indexed document of a collection (GET /v1/documents lists only its uploaded files)."""
        engine = engines.collection(name)  # IndexMissingError (404) naming those that exist
        offered = engines.collections()
        rows = documents.collection_documents(engine.settings, existing=offered, say_where=False)
        return CollectionDocumentList(collection=name, data=[IndexedDocumentInfo(**asdict(r)) for r in rows])

    def checked_filter(engine: AnswerEngine, sources: SourcesLike, date_from: DateLike,
                       date_to: DateLike) -> SearchFilter | None:
        """The request's filter; a source the collection does not hold is a 400 naming it, not a quiet abstention."""
        filters = make_filter(sources, date_from, date_to)
        name = engine.settings.store.collection
        documents.check_sources(engine, filters, listed_by=f"GET /v1/collections/{name}/documents")
        return filters

    @router.post("/chat/completions", response_model=None)
    def chat_completions(body: ChatCompletionRequest) -> ChatCompletion | StreamingResponse:
        engine = engines.collection(body.model)
        question, history = conversation(body.messages)
        filters = checked_filter(engine, body.sources, body.date_from, body.date_to)
        if not body.stream:
            return chat_completion(ask_turn(engine, question, top_k=body.top_k, history=history, filters=filters), body.model)
        stream = stream_turn(engine, question, top_k=body.top_k, history=history, filters=filters)
        # The first piece is taken here: a bad question or a missing index is an HTTP error, not a broken stream.
        first = next(stream)
        include_usage = body.stream_options is not None and body.stream_options.include_usage
        return StreamingResponse(sse_events(itertools.chain([first], stream), body.model, include_usage=include_usage),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @router.post("/ask")
    def ask(body: AskRequest) -> Answer:
        engine = engines.collection(body.collection)
        return ask_turn(engine, body.question, top_k=body.top_k, history=as_turns(body.history),
                          filters=checked_filter(engine, body.sources, body.date_from, body.date_to))

    @router.post("/retrieve")
    def retrieve(body: RetrieveRequest) -> RetrieveResponse:
        engine = engines.collection(body.collection)
        passages = engine.retrieve(body.query, top_k=RETRIEVE_TOP_K if body.top_k is None else body.top_k,
                                   filters=checked_filter(engine, body.sources, body.date_from, body.date_to))
        return RetrieveResponse(collection=engine.settings.store.collection, query=body.query, passages=passages)

    @router.post("/documents")
    def add_documents(files: list[UploadFile] = File(..., description="Files to index (txt, md, pdf, ...)."),
                      collection: str | None = Form(None)) -> DocumentsResponse:
        """Index uploaded files next to what the collection holds (replaced when re-sent under the same name)."""
        engine = engines.collection(collection)
        with tempfile.TemporaryDirectory(prefix="assistant-upload-") as folder:
            batch = receive_uploads(files, Path(folder), max_mb=settings.ui.max_upload_mb)
            if not batch.accepted:
                raise ApiError(400, f"nothing to index ({_reasons(batch.refused) or 'no files were sent'})", code="invalid_upload")
            report = documents.add_files(engine, [path for path, _ in batch.accepted], names=[name for _, name in batch.accepted])
        refused = batch.refused + [(source.removeprefix(UPLOAD_SOURCE_PREFIX), why) for source, why in report.skipped]
        if not (report.added or report.changed or report.unchanged):
            raise ApiError(400, f"nothing to index ({_reasons(refused)})", code="invalid_upload")
        return DocumentsResponse(collection=engine.settings.store.collection, added=report.added, changed=report.changed,
                                 unchanged=report.unchanged, skipped=[SkippedFile(name=n, reason=why) for n, why in refused],
                                 chunks=report.chunks)

    @router.get("/documents")
    def list_documents(collection: str | None = None) -> DocumentList:
        """The collection's uploaded documents (stored and quarantined), with what the index holds of each."""
        engine = engines.collection(collection)
        data = [DocumentInfo(name=d.name, source=d.source, size=d.size, modified=d.modified, title=d.title, chunks=d.chunks,
                             quarantined=d.quarantined) for d in documents.uploaded_documents(engine)]
        return DocumentList(collection=engine.settings.store.collection, data=data)

    @router.get("/documents/{name}", response_model=None)
    def download_document(name: str, collection: str | None = None) -> FileResponse:
        engine = engines.collection(collection)
        path = documents.uploaded_file_path(engine, name)
        # Served as an attachment of an opaque type: an uploaded .html must never run in the API's origin.
        return FileResponse(path, filename=path.name, media_type="application/octet-stream",
                            headers={"X-Content-Type-Options": "nosniff"})

    @router.delete("/documents/{name}")
    def delete_document(name: str, collection: str | None = None) -> RemovedResponse:
        engine = engines.collection(collection)
        report = documents.remove_documents(engine, [name])
        return RemovedResponse(collection=engine.settings.store.collection, removed=report.removed,
                               chunks=engine.view().manifest.chunks)

    app.include_router(router)
    _add_error_handlers(app)
    # Outermost: a body over the limit is refused before any route (or the multipart parser) reads it.
    app.add_middleware(BodySizeLimit, max_bytes=int(settings.ui.max_request_mb * 1024 * 1024), prefix="/v1")
    return app


def _reasons(refused: list[tuple[str, str]]) -> str:
    return "; ".join(f"{name}: {why}" for name, why in refused)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AssistantError)
    def assistant_error(_: Request, exc: AssistantError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body(describe_invalid_request(exc.errors()), INVALID_REQUEST, "invalid_request"),
                            status_code=400)

    @app.exception_handler(HTTPException)
    def http_error(_: Request, exc: HTTPException) -> JSONResponse:  # unknown route, wrong method
        kind = INVALID_REQUEST if exc.status_code < 500 else SERVER_ERROR
        code = "request_too_large" if isinstance(exc, BodyTooLarge) else None
        message = str(exc.detail)
        if exc.status_code == 400 and message == UNPARSED_BODY:  # FastAPI's words for a body json can't load
            message, code = UNPARSED_BODY_MESSAGE, "invalid_json"
        return JSONResponse(error_body(message, kind, code), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    def unexpected(_: Request, exc: Exception) -> JSONResponse:
        # Starlette still re-raises it after this, so the server log gets the traceback; the client gets one line.
        return JSONResponse(error_body(f"the assistant failed ({type(exc).__name__}); the server log has the details",
                                       SERVER_ERROR, "internal_error"), status_code=500)
