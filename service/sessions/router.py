"""HTTP routes for motion sessions."""

from __future__ import annotations

import io
import json
from pathlib import PurePath
from typing import Annotated

import numpy as np
import pyarrow.csv as pacsv
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from service.deps import BlobStoreDep, SessionDep, SettingsDep
from service.errors import BadRequest, PayloadTooLarge
from service.http import Responses, read_body
from service.sessions import service
from service.sessions.decoding import Parser, maybe_gunzip, media_type, parser_for
from service.sessions.parsing import Payload, UploadOptions
from service.sessions.schemas import SessionPage, SessionRead, Stats, UploadResult

router = APIRouter(prefix="/v1", tags=["sessions"])
ERRORS: Responses = {
    400: {"description": "Malformed body"},
    409: {"description": "A session exists with different content"},
    413: {"description": "Body too large"},
    415: {"description": "Unsupported content type"},
    422: {"description": "Invalid sessions"},
}


def upload_options(
    session_column: str = "sessionId",
    label_column: str = "activity",
    subject_column: str = "subject",
    split_column: str = "split",
    timestamp_column: str = "timestamp",
    session_id: Annotated[str | None, Query(description="Id for a file of one session")] = None,
    activity: Annotated[str | None, Query(description="Label for a file of one session")] = None,
    subject: str | None = None,
    split: str | None = None,
    sample_rate_hz: Annotated[float | None, Query(gt=0)] = None,
) -> UploadOptions:
    return UploadOptions(**locals())


async def read_parts(
    request: Request, limit: int
) -> list[tuple[bytes | bytearray, Parser, str | None]]:
    """(bytes, parser, source name) for each file of the request."""
    kind = media_type(request.headers.get("content-type"))
    if kind != "multipart/form-data":
        parser = parser_for(kind)  # 415 before reading a byte
        gzipped = request.headers.get("content-encoding", "").lower() == "gzip"
        body = maybe_gunzip(await read_body(request, limit), gzipped=gzipped, limit=limit)
        return [(body, parser, None)]
    form = await request.form(max_files=10_000, max_fields=100, max_part_size=limit)
    files = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
    if not files:
        raise BadRequest("the multipart body has no files: attach .csv or .json files")
    parts, total = [], 0
    for file in files:
        parser = parser_for(media_type(file.content_type), file.filename)
        data = maybe_gunzip(
            await file.read(),
            gzipped=(file.filename or "").endswith(".gz"),
            limit=limit,
            what=f"file {file.filename!r}",
        )
        total += len(data)
        if total > limit:
            raise PayloadTooLarge(f"the files exceed the limit of {limit} bytes")
        parts.append((data, parser, file.filename))
    return parts


def parse_parts(parts: list, options: UploadOptions) -> list:
    """Parse each part, releasing its bytes as soon as the parser has read them."""
    parsed, several = [], len(parts) > 1
    while parts:
        data, parser, filename = parts.pop(0)
        payload = Payload(data)
        del data
        file_options = options
        if filename and options.session_id is None and several:
            # Several one-session files: each file's name is its session id by default.
            stem = PurePath(filename.removesuffix(".gz")).stem
            file_options = UploadOptions(**{**options.__dict__, "session_id": stem})
        parsed.extend(parser(payload, file_options, filename))
    return parsed


@router.post("/sessions", status_code=201, response_model=UploadResult, responses=ERRORS)
async def upload_sessions(
    request: Request,
    response: Response,
    db: SessionDep,
    store: BlobStoreDep,
    settings: SettingsDep,
    options: Annotated[UploadOptions, Depends(upload_options)],
    replace: bool = False,
) -> UploadResult:
    """Upload sessions: stacked CSV, JSON or multipart files, optionally gzip; all or nothing."""
    parts = await read_parts(request, settings.max_upload_bytes)
    parsed = await run_in_threadpool(parse_parts, parts, options)  # empties `parts`
    results = await run_in_threadpool(
        service.store_sessions, db, store=store, parsed=parsed, replace=replace
    )
    response.status_code = 201 if any(r.created or r.replaced for r in results) else 200
    return UploadResult(sessions=results)


@router.get("/sessions", response_model=SessionPage)
def list_sessions(
    db: SessionDep,
    activity: str | None = None,
    subject: str | None = None,
    split: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> SessionPage:
    """List sessions, filtered by activity, subject and split, a page at a time."""
    items, total = service.list_sessions(
        db, activity=activity, subject=subject, split=split, limit=limit, offset=offset
    )
    return SessionPage(
        items=[SessionRead.model_validate(i) for i in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/sessions/{session_id}", response_model=SessionRead, responses={404: {}})
def get_session(db: SessionDep, session_id: str) -> SessionRead:
    """One session's metadata."""
    return SessionRead.model_validate(service.get_session(db, session_id=session_id))


@router.get(
    "/sessions/{session_id}/samples",
    responses={200: {"content": {"text/csv": {}, "application/json": {}}}, 404: {}},
)
def get_samples(request: Request, db: SessionDep, store: BlobStoreDep, session_id: str):
    """A session's samples: CSV (default) or, with Accept: application/json, upload JSON."""
    row = service.get_session(db, session_id=session_id)
    table = store.read_table(row.blob_sha256)
    if "application/json" in request.headers.get("accept", ""):
        document = {
            "id": row.id,
            "activity": row.activity,
            "subject": row.subject,
            "split": row.split,
            "sample_rate_hz": row.sample_rate_hz,
            "columns": table.column_names,
            "samples": np.column_stack([c.to_numpy() for c in table.columns]).tolist(),
        }
        return Response(json.dumps(document), media_type="application/json")
    out = io.BytesIO()
    pacsv.write_csv(table, out)
    return Response(out.getvalue(), media_type="text/csv")


@router.delete("/sessions/{session_id}", status_code=204, responses={404: {}})
def delete_session(db: SessionDep, store: BlobStoreDep, session_id: str) -> Response:
    """Delete a session; its blob goes too once nothing references it."""
    service.delete_session(db, store=store, session_id=session_id)
    return Response(status_code=204)


@router.get("/stats", response_model=Stats)
def stats(db: SessionDep) -> Stats:
    """Sessions, rows and seconds per activity, subject and split, with imbalance warnings."""
    return service.session_stats(db)
