"""Errors as RFC 9457 problem details (`application/problem+json`), rendered by one handler.

Domain errors carry their HTTP status and a message that says what was wrong and how to fix
it, plus optional fields (`row`, `column`, `session`, `limit`). FastAPI's validation errors,
unknown routes, wrong methods, unreadable bodies, a full disk and unexpected failures are
rendered the same way; an unexpected failure shows no traceback (the server log has it).
"""

from __future__ import annotations

import errno
import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect, HTTPConnection
from starlette.routing import Match

log = logging.getLogger("motionlab")

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:motionlab:problem:"
SQLITE_FULL = 13
POSTGRES_DISK_FULL = "53100"


class FieldProblem(BaseModel):
    """One invalid parameter or body field."""

    location: str = Field(..., description="e.g. query.offset, body.data.sessions.0")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem: what went wrong and how to fix it."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "type": "urn:motionlab:problem:invalid-input",
                "title": "Invalid input",
                "status": 422,
                "detail": "session 's1', sample 2 (row 2, line 3), column 'x': value nan is not "
                "a finite number (NaN / inf / missing); fix or drop it",
                "instance": "/v1/sessions",
                "session": "s1",
                "row": 2,
                "column": "x",
            }
        },
    )

    type: str = Field(..., description="urn:motionlab:problem:<kind>, e.g. …:invalid-input")
    title: str = Field(..., description="The kind of problem, the same for every occurrence")
    status: int = Field(..., description="The HTTP status code")
    detail: str = Field(..., description="What was wrong in this request and how to fix it")
    instance: str | None = Field(None, description="The request path")
    session: str | None = Field(None, description="The session the problem is in")
    row: int | None = Field(None, description="The data row (1-based; CSV line = row + 1)")
    column: str | None = Field(None, description="The column the problem is in")
    limit: int | None = Field(None, description="The limit that was exceeded")
    errors: list[FieldProblem] | None = Field(None, description="Each invalid field")


class ServiceError(Exception):
    """An expected failure: its status, its kind, and a message for the client."""

    status_code = 400
    kind = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **fields: Any):
        super().__init__(detail)
        self.detail = detail
        self.headers = headers
        self.fields = {name: value for name, value in fields.items() if value is not None}

    def __reduce__(self) -> tuple:
        """Pickled whole (raised in a decoder process, service.offload, re-raised here)."""
        return (_rebuild_error, (type(self), self.detail, self.headers, self.fields))


def _rebuild_error(
    kind: type[ServiceError], detail: str, headers: dict[str, str] | None, fields: dict
) -> ServiceError:
    return kind(detail, headers=headers, **fields)


class BadRequest(ServiceError):
    pass


class MalformedBody(ServiceError):
    status_code, kind, title = 400, "malformed-body", "Malformed body"


class NotFound(ServiceError):
    status_code, kind, title = 404, "not-found", "Not found"


class Conflict(ServiceError):
    status_code, kind, title = 409, "conflict", "Conflict"


class PayloadTooLarge(ServiceError):
    status_code, kind, title = 413, "content-too-large", "Content too large"


class UnsupportedMediaType(ServiceError):
    status_code, kind, title = 415, "unsupported-media-type", "Unsupported media type"


class InvalidInput(ServiceError):
    status_code, kind, title = 422, "invalid-input", "Invalid input"


class MethodNotAllowed(ServiceError):
    status_code, kind, title = 405, "method-not-allowed", "Method not allowed"


class ServiceUnavailable(ServiceError):
    status_code, kind, title = 503, "service-unavailable", "Service unavailable"


class InsufficientStorage(ServiceError):
    status_code, kind, title = 507, "insufficient-storage", "Insufficient storage"


# Starlette's and FastAPI's own HTTP errors, as the domain error of their status.
HTTP_ERRORS: dict[int, type[ServiceError]] = {
    error.status_code: error
    for error in (
        MalformedBody,
        NotFound,
        MethodNotAllowed,
        Conflict,
        PayloadTooLarge,
        UnsupportedMediaType,
        InvalidInput,
        ServiceUnavailable,
        InsufficientStorage,
    )
}


def problem_response(
    request: HTTPConnection,  # a WebSocket too: a refused handshake answers problem+json
    status: int,
    kind: str,
    title: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> JSONResponse:
    body = {
        "type": TYPE_PREFIX + kind,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **fields,
    }
    return JSONResponse(body, status, headers=headers, media_type=PROBLEM_JSON)


def render(request: HTTPConnection, error: ServiceError) -> JSONResponse:
    return problem_response(
        request,
        error.status_code,
        error.kind,
        error.title,
        error.detail,
        headers=error.headers,
        **error.fields,
    )


def is_disk_full(exc: BaseException) -> bool:
    """The file system or the database ran out of space (ENOSPC, SQLITE_FULL, …)."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if isinstance(exc, OperationalError):
        cause = exc.orig
        return (
            getattr(cause, "sqlite_errorcode", None) == SQLITE_FULL
            or getattr(cause, "sqlstate", None) == POSTGRES_DISK_FULL  # psycopg 3
            or "database or disk is full" in str(cause)
        )
    return False


# PostgreSQL's text cannot hold U+0000 (psycopg refuses to send it); SQLite's can.
POSTGRES_NUL_MESSAGE = "cannot contain NUL (0x00) bytes"
NUL_IN_TEXT = InvalidInput(
    "a text value of the request (a query parameter, a path segment or a JSON string) holds "
    "the NUL character (U+0000, %00), which this server's database cannot store or search: "
    "remove it"
)

DISK_FULL = InsufficientStorage(
    "the server's disk is full: nothing was changed. Free space on the server (or ask its "
    "operator to), then send the request again"
)


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    routes = request.app.router.routes
    return [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    ]


def _unparsable_body(cause: BaseException | None) -> str:
    if isinstance(cause, RecursionError):
        return "the JSON body is nested too deeply to parse; send a flatter document"
    if isinstance(cause, UnicodeDecodeError):
        return f"the body is not UTF-8 text ({cause.reason} at byte {cause.start}); send UTF-8 JSON"
    return "the body could not be parsed as JSON; fix it and send it again"


def _http_problem(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    status = exc.status_code
    detail = str(exc.detail)
    headers = dict(exc.headers or {})
    if status == 405:
        allowed = allowed_methods(request)
        headers["Allow"] = ", ".join(allowed)
        detail = f"{request.method} is not allowed on {request.url.path}; use {', '.join(allowed)}"
    elif status == 404 and detail == HTTPStatus.NOT_FOUND.phrase:
        detail = f"no route matches {request.url.path}; the API is described at /docs"
    elif status == 400 and detail == "There was an error parsing the body":
        detail = _unparsable_body(exc.__cause__)
    kind = HTTP_ERRORS.get(status)
    if kind is not None:
        return render(request, kind(detail, headers=headers or None))
    phrase = HTTPStatus(status).phrase
    slug, title = phrase.lower().replace(" ", "-"), phrase.capitalize()
    return problem_response(request, status, slug, title, detail, headers=headers or None)


def _validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
    items = list(exc.errors())
    if items and all(item.get("type") == "json_invalid" for item in items):
        reason = items[0].get("ctx", {}).get("error", "invalid JSON")
        position = items[0].get("loc", ("body", "?"))[-1]
        return render(
            request,
            MalformedBody(f"malformed JSON: {reason} at character {position}; fix the body"),
        )
    problems = [
        FieldProblem(location=".".join(map(str, item.get("loc", ()))), message=item.get("msg", ""))
        for item in items
    ]
    details = []
    for item, problem in zip(items, problems, strict=True):
        where = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
        details.append(f"{where}: {problem.message}" if where else problem.message)
    return render(
        request,
        InvalidInput("; ".join(details), errors=[p.model_dump() for p in problems]),
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return render(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_problem(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _http_problem(request, exc)

    @app.exception_handler(ClientDisconnect)
    async def _client_gone(request: Request, _exc: ClientDisconnect) -> JSONResponse:
        # Not a server fault: one line, no traceback (nobody reads the answer).
        log.info("client disconnected method=%s path=%s", request.method, request.url.path)
        return render(request, BadRequest("the client disconnected before the body arrived"))

    async def _storage_error(request: Request, exc: Exception) -> JSONResponse:
        if not is_disk_full(exc):
            raise exc  # unexpected: the 500 below, with the traceback in the log
        log.error("disk full method=%s path=%s error=%s", request.method, request.url.path, exc)
        return render(request, DISK_FULL)

    app.add_exception_handler(OSError, _storage_error)
    app.add_exception_handler(OperationalError, _storage_error)

    @app.exception_handler(DataError)
    async def _unstorable_text(request: Request, exc: DataError) -> JSONResponse:
        if POSTGRES_NUL_MESSAGE not in str(exc.orig):
            raise exc  # unexpected: the 500 below, with the traceback in the log
        return render(request, NUL_IN_TEXT)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, _exc: Exception) -> JSONResponse:
        # Starlette logs the traceback after this answer; the client sees none of it.
        return problem_response(
            request,
            500,
            "internal-error",
            "Internal server error",
            "an unexpected error occurred on the server; it is logged there. Try again, and "
            "report it if it persists",
        )
