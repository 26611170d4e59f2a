"""The one place that turns errors into HTTP answers: always JSON `{"detail": "..."}`.

Xinference answers malformed JSON with a plain-text 500 and leaks internal dumps on some errors;
here every error has a status that says whose fault it is and words a person can act on.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from desktop.api.openai import ErrorInfo, StreamError
from desktop.core.catalog.registry import with_article
from desktop.core.errors import (
    ChatTemplateError,
    ConfigError,
    DownloadNotFound,
    HubError,
    IntegrityError,
    InvalidRequest,
    InvalidSettings,
    LaunchCancelled,
    ModelLoadError,
    ModelNotFound,
    ModelNotReady,
    ModelStopped,
    NotEnoughDiskSpace,
    NotEnoughMemory,
    PathTimeout,
    UnknownModelUID,
    WorkerCrashed,
    WrongModelType,
    XinDeskError,
)

log = logging.getLogger("xindesk.server")

BODY_NOT_UTF8 = "The request body is not valid JSON: it is not UTF-8 text."
BODY_TOO_DEEP = "The request body is not valid JSON here: it is nested too deeply."

INFERENCE_PATHS = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/rerank")
#: Routes whose clients read the error from an `error` field (Ollama's API).
_ERROR_FIELD_PREFIX = "/api/"
#: Routes only OpenAI's SDKs call, which read OpenAI's `{"error": {"message", ...}}`.
_OPENAI_ONLY_PATHS = ("/v1/responses",)
#: Anthropic's Messages routes, whose clients read `{"type": "error", "error": {...}}`.
_ANTHROPIC_PATHS = ("/v1/messages", "/anthropic/")
_ANTHROPIC_ERRORS = {
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
}
# The kind of model each inference route needs, in words.
_ROUTE_NEEDS = {
    "/v1/chat/completions": "a chat (LLM)",
    "/v1/completions": "a text-generation (LLM)",
    "/v1/embeddings": "an embedding",
    "/v1/rerank": "a rerank",
}

_STATUS: list[tuple[type[XinDeskError], int]] = [
    (InvalidSettings, 422),
    (InvalidRequest, 400),
    (ModelNotFound, 400),
    (ChatTemplateError, 400),
    (ConfigError, 400),
    (ModelNotReady, 503),
    (NotEnoughMemory, 503),
    (ModelStopped, 503),
    (LaunchCancelled, 499),
    (ModelLoadError, 500),
    (WorkerCrashed, 500),
    (DownloadNotFound, 404),
    (HubError, 502),
    (IntegrityError, 502),
    (NotEnoughDiskSpace, 507),
    (PathTimeout, 504),
]


def status_for(exc: XinDeskError, path: str) -> int:
    if isinstance(exc, UnknownModelUID):
        # Xinference 4 answers an unknown uid with 404 on inference routes, 400 elsewhere;
        # Ollama and Anthropic with 404.
        other_apis = (_ERROR_FIELD_PREFIX, *_ANTHROPIC_PATHS)
        return 404 if path in INFERENCE_PATHS or path.startswith(other_apis) else 400
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 500


def _wrong_type_message(exc: WrongModelType, path: str) -> str:
    if exc.lacks == "chat":
        return (
            f"Model {exc.uid} ({exc.model_name or exc.uid}) is not a chat model; use "
            f"/v1/completions with it."
        )
    needs = _ROUTE_NEEDS.get(path)
    if needs is None or exc.lacks is not None:
        return str(exc)
    return (
        f"Model {exc.uid} is {with_article(exc.actual)} model; {path} needs {needs} model. "
        f"Launch one with model_type={exc.needed!r} (a catalog model, or this file again with "
        f"model_path)."
    )


def message_for(exc: XinDeskError, path: str) -> str:
    if isinstance(exc, UnknownModelUID) and path in INFERENCE_PATHS:
        return f"{exc}. Available model uids: {exc.available}"
    if isinstance(exc, WrongModelType):
        return _wrong_type_message(exc, path)
    return str(exc)


def _validation_message(exc: RequestValidationError) -> tuple[int, str]:
    errors = exc.errors()
    for error in errors:
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", "malformed JSON")
            return 400, f"The request body is not valid JSON: {reason}."
    parts = []
    for error in errors[:5]:
        location = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{location or 'body'}: {error.get('msg')}")
    return 422, "Invalid request: " + "; ".join(parts)


def error_body(path: str, message: str, status: int) -> dict[str, Any]:
    """`{"detail": message}`, with what other APIs' clients read beside it: Ollama's `error`
    string, Anthropic's `error` object."""
    if path.startswith(_ERROR_FIELD_PREFIX):
        return {"detail": message, "error": message}
    if path.startswith(_ANTHROPIC_PATHS):
        kind = _ANTHROPIC_ERRORS.get(
            status, "api_error" if status >= 500 else "invalid_request_error"
        )
        return {"type": "error", "error": {"type": kind, "message": message}, "detail": message}
    if path.startswith(_OPENAI_ONLY_PATHS):
        kind = "server_error" if status >= 500 else "invalid_request_error"
        return {"detail": message, "error": {"message": message, "type": kind, "code": None}}
    return {"detail": message}


def stream_error(exc: BaseException) -> StreamError:
    """The in-band error event of a stream that could not finish, in OpenAI's shape."""
    if isinstance(exc, ModelStopped):
        info = ErrorInfo(message=str(exc), type="server_error", code=exc.code)
    elif isinstance(exc, WorkerCrashed):
        info = ErrorInfo(message=str(exc), type="server_error", code="worker_crashed")
    elif isinstance(exc, InvalidRequest | ChatTemplateError | ModelNotFound | ConfigError):
        info = ErrorInfo(message=str(exc), type="invalid_request_error", code="invalid_request")
    elif isinstance(exc, XinDeskError):
        info = ErrorInfo(message=str(exc), type="server_error", code="internal_error")
    else:
        info = ErrorInfo(
            message=f"Internal error ({type(exc).__name__}): {exc}. See the server log.",
            type="server_error",
            code="internal_error",
        )
    return StreamError(error=info)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(XinDeskError)
    async def _core_error(request: Request, exc: XinDeskError) -> JSONResponse:
        status = status_for(exc, request.url.path)
        headers = {}
        if isinstance(exc, ModelNotReady) and exc.retry_after:
            headers["Retry-After"] = str(exc.retry_after)
        if status >= 500:
            log.error("%s %s -> %d: %s", request.method, request.url.path, status, exc)
        return JSONResponse(
            error_body(request.url.path, message_for(exc, request.url.path), status),
            status_code=status,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, message = _validation_message(exc)
        return JSONResponse(error_body(request.url.path, message, status), status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No such route: {request.method} {request.url.path}"
        elif exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            # FastAPI's "There was an error parsing the body", for its two usual causes.
            detail = BODY_NOT_UTF8
        elif exc.status_code == 400 and isinstance(exc.__cause__, RecursionError):
            detail = BODY_TOO_DEEP
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
        return JSONResponse(
            error_body(request.url.path, str(detail), exc.status_code),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            {"detail": f"Internal error ({type(exc).__name__}): {exc}. See the server log."},
            status_code=500,
        )
