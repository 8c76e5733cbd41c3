"""The FastAPI app: routes under /v1, each a thin translation to the engine of one collection.

Handlers are plain functions, so FastAPI runs them (and a stream's iteration) in its thread pool:
answering is CPU work, and the event loop stays free for other requests."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException

from assistant.api import RETRIEVE_TOP_K, as_turns, make_filter
from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.http_api.auth import bearer_check, configured_key
from assistant.http_api.engines import CollectionEngines
from assistant.http_api.errors import (
    INVALID_REQUEST,
    SERVER_ERROR,
    ApiError,
    describe_invalid_request,
    error_body,
    error_response,
)
from assistant.http_api.models import (
    AskRequest,
    ChatCompletion,
    ChatCompletionRequest,
    DocumentsResponse,
    ModelCard,
    ModelList,
    RetrieveRequest,
    RetrieveResponse,
    SkippedFile,
)
from assistant.http_api.openai_shape import chat_completion, conversation, sse_events
from assistant.http_api.uploads import receive_uploads
from assistant.types import Answer


def create_app(settings: Settings, engines: CollectionEngines) -> FastAPI:
    """The API over `engines`. With `settings.ui.api_key` set, every /v1 route needs that bearer token;
    whether serving without one is safe is the caller's check (`check_api_bind`)."""
    key = configured_key(settings.ui.api_key)
    # No /docs or /openapi.json: the page may be mounted at "/" with its own sign-in, and those routes
    # would sit outside both its sign-in and the bearer check.
    app = FastAPI(title="assistant", docs_url=None, redoc_url=None, openapi_url=None)
    router = APIRouter(prefix="/v1", dependencies=[Depends(bearer_check(key))])

    @router.get("/models")
    def list_models() -> ModelList:
        return ModelList(data=[ModelCard(id=name, created=engines.created(name)) for name in engines.names()])

    @router.get("/models/{model}")
    def get_model(model: str) -> ModelCard:
        engines.get(model)  # IndexMissingError (404) for an unknown one
        return ModelCard(id=model, created=engines.created(model))

    @router.post("/chat/completions", response_model=None)
    def chat_completions(body: ChatCompletionRequest) -> ChatCompletion | StreamingResponse:
        engine = engines.get(body.model)
        question, history = conversation(body.messages)
        filters = make_filter(body.sources, body.date_from, body.date_to)
        if not body.stream:
            return chat_completion(engine.ask(question, top_k=body.top_k, history=history, filters=filters), body.model)
        stream = engine.ask_stream(question, top_k=body.top_k, history=history, filters=filters)
        # The first piece is taken here: a bad question or a missing index is an HTTP error, not a broken stream.
        first = next(stream)
        return StreamingResponse(sse_events(itertools.chain([first], stream), body.model), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @router.post("/ask")
    def ask(body: AskRequest) -> Answer:
        engine = engines.get(body.collection)
        return engine.ask(body.question, top_k=body.top_k, history=as_turns(body.history),
                          filters=make_filter(body.sources, body.date_from, body.date_to))

    @router.post("/retrieve")
    def retrieve(body: RetrieveRequest) -> RetrieveResponse:
        engine = engines.get(body.collection)
        passages = engine.retrieve(body.query, top_k=RETRIEVE_TOP_K if body.top_k is None else body.top_k,
                                   filters=make_filter(body.sources, body.date_from, body.date_to))
        return RetrieveResponse(collection=engine.settings.store.collection, query=body.query, passages=passages)

    @router.post("/documents")
    def add_documents(files: list[UploadFile] = File(..., description="Files to index (txt, md, pdf, ...)."),
                      collection: str | None = Form(None)) -> DocumentsResponse:
        """Index uploaded files next to what the collection holds (replaced when re-sent under the same name)."""
        engine = engines.get(collection)
        with tempfile.TemporaryDirectory(prefix="assistant-upload-") as folder:
            batch = receive_uploads(files, Path(folder), max_mb=settings.ui.max_upload_mb)
            if not batch.accepted:
                reasons = "; ".join(f"{name}: {why}" for name, why in batch.refused) or "no files were sent"
                raise ApiError(400, f"nothing to index ({reasons})", code="invalid_upload")
            report = engine.add_files([path for path, _ in batch.accepted], names=[name for _, name in batch.accepted])
        skipped = [SkippedFile(name=name, reason=why) for name, why in batch.refused + list(report.skipped)]
        return DocumentsResponse(collection=engine.settings.store.collection, added=report.added, changed=report.changed,
                                 unchanged=report.unchanged, skipped=skipped, chunks=report.chunks)

    app.include_router(router)
    _add_error_handlers(app)
    return app


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
        return JSONResponse(error_body(str(exc.detail), kind, None), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    def unexpected(_: Request, exc: Exception) -> JSONResponse:
        # Starlette still re-raises it after this, so the server log gets the traceback; the client gets one line.
        return JSONResponse(error_body(f"the assistant failed ({type(exc).__name__}); the server log has the details",
                                       SERVER_ERROR, "internal_error"), status_code=500)
