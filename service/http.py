"""HTTP helpers every router shares: body reading, work in a thread, file downloads."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.db import unit_of_work
from core.settings import Settings
from service.errors import PayloadTooLarge
from service.projects.access import project_sessions

JSON = "application/json"
# The `responses=` of a route: status → OpenAPI response object.
Responses = dict[int | str, dict[str, Any]]
DOWNLOAD: Responses = {200: {"content": {"application/octet-stream": {}}}}
ZIP = "application/zip"
ZIP_DOWNLOAD: Responses = {200: {"content": {ZIP: {}}}}


@dataclass(frozen=True)
class Limit:
    """A body size limit and the setting that changes it, both named in its 413."""

    bytes: int
    setting: str

    def exceeded(self, what: str = "the body", size: int | str = "") -> PayloadTooLarge:
        size = f" ({size} bytes)" if size else ""
        return PayloadTooLarge(
            f"{what}{size} exceeds the limit of {self.bytes} bytes ({self.setting}); send "
            "less per request, or ask the operator to raise the limit",
            limit=self.bytes,
        )


def samples_limit(settings: Settings, media_type: str) -> Limit:
    """The limit of a body of samples (upload, rows) of this media type: JSON costs more."""
    if media_type == JSON:
        return Limit(settings.max_json_bytes, "MOTIONLAB_MAX_JSON_BYTES")
    return Limit(settings.max_upload_bytes, "MOTIONLAB_MAX_UPLOAD_BYTES")


def request_limit(settings: Settings) -> Limit:
    """The limit of every other body (run requests, the registry)."""
    return Limit(settings.max_request_body_bytes, "MOTIONLAB_MAX_REQUEST_BODY_BYTES")


# Through this scope key a route that reads its body itself sets that body's limit.
BODY_LIMIT_KEY = "motionlab.body_limit"


class BodyLimit:
    """413 as soon as a request body passes its limit, before anything reads it whole.

    Bodies that FastAPI parses (run requests, the registry) get `default`; routes that read
    rows or uploads themselves set theirs with `read_body` / `allow_body`.
    """

    def __init__(self, app: ASGIApp, *, default: Limit):
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            limit: Limit = scope.get(BODY_LIMIT_KEY, self.default)
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit.bytes:
                # As an HTTPException: FastAPI passes those through while it parses a body.
                raise StarletteHTTPException(413, limit.exceeded().detail)
            return message

        await self.app(scope, limited_receive, send)


def allow_body(request: Request, limit: Limit) -> None:
    """Let this request's body grow to `limit` (the route reads and checks it itself)."""
    request.scope[BODY_LIMIT_KEY] = limit


async def read_body(request: Request, limit: Limit) -> bytearray:
    """The whole body, refused with 413 as soon as it passes `limit`."""
    allow_body(request, limit)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit.bytes:
        raise limit.exceeded(size=declared)
    # Grown as bytes arrive, never pre-sized from Content-Length: a declared size costs nothing
    # until it is sent (a header alone must not hold the limit's memory). Growing in place
    # does not copy: glibc moves a large buffer's pages with mremap (peak = the body, measured).
    body = bytearray()
    async for chunk in request.stream():
        if len(body) + len(chunk) > limit.bytes:
            raise limit.exceeded()
        body += chunk
    return body


async def in_unit_of_work(
    request: HTTPConnection, function: Callable[..., Any], /, **kwargs
) -> Any:
    """`function(db, **kwargs)` in a worker thread, in one unit of work of its own.

    For async routes on hot paths: one thread hop for the database work and the computation,
    instead of one per sync dependency.
    """

    def call() -> Any:
        with unit_of_work(project_sessions(request)) as db:
            return function(db, **kwargs)

    return await run_in_threadpool(call)


def file_response(
    request: Request,
    path: Path,
    filename: str | None = None,
    *,
    media_type: str = "application/octet-stream",
    headers: dict[str, str] | None = None,
) -> Response:
    """A file with ETag = its sha256 (a download when `filename` is given); 304 when the
    client has it already."""
    headers = {**(headers or {}), "ETag": f'"{file_etag(path)}"'}
    if headers["ETag"] in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return FileResponse(path, filename=filename, headers=headers, media_type=media_type)


def answer_head_on_downloads(router: APIRouter) -> None:
    """HEAD on every download of `router`, answered as its GET without the body: the status,
    ETag and Content-Length, 304 on If-None-Match (`curl -I`, a CI step checking a model
    changed). Left out of the API's description, where it would be a second operation of each
    GET. Called once per router, after its routes."""
    downloads = [
        route
        for route in router.routes
        if isinstance(route, APIRoute)
        and route.methods == {"GET"}
        and route.response_class is FileResponse
    ]
    for route in downloads:
        router.add_api_route(
            route.path.removeprefix(router.prefix),
            route.endpoint,
            methods=["HEAD"],
            name=f"{route.name}_head",
            response_class=FileResponse,
            include_in_schema=False,
        )


def file_etag(path: Path) -> str:
    """The file's sha256, computed once per (path, mtime, size)."""
    stat = path.stat()
    return _sha256(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=256)
def _sha256(path: str, _mtime_ns: int, _size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
