"""HTTP helpers every router shares: body reading, work in a thread, file downloads."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from core.db import unit_of_work
from service.errors import PayloadTooLarge

JSON = "application/json"
# The `responses=` of a route: status → OpenAPI response object.
Responses = dict[int | str, dict[str, Any]]
# The request body of the routes that take rows (predict, evaluate): CSV or JSON.
ROWS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}
DOWNLOAD: Responses = {200: {"content": {"application/octet-stream": {}}}}


async def read_body(request: Request, limit: int) -> bytearray:
    """The whole body, refused with 413 as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body ({declared} bytes) exceeds the limit of {limit} bytes")
    body = bytearray()  # grows in place: no second copy of the body at the end
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"the body exceeds the limit of {limit} bytes")
    return body


async def in_unit_of_work(request: Request, function: Callable[..., Any], /, **kwargs) -> Any:
    """`function(db, **kwargs)` in a worker thread, in one unit of work of its own.

    For async routes on hot paths: one thread hop for the database work and the computation,
    instead of one per sync dependency.
    """

    def call() -> Any:
        with unit_of_work(request.app.state.session_factory) as db:
            return function(db, **kwargs)

    return await run_in_threadpool(call)


def file_response(request: Request, path: Path, filename: str) -> Response:
    """A download with ETag = the file's sha256; 304 when the client has it already."""
    etag = f'"{file_etag(path)}"'
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers={"ETag": etag})
    return FileResponse(
        path, filename=filename, headers={"ETag": etag}, media_type="application/octet-stream"
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
