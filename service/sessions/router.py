"""HTTP routes for motion sessions."""

from __future__ import annotations

import io
import json
from typing import Annotated, Literal

import numpy as np
import pyarrow.csv as pacsv
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from core.channels import layout_of
from service.auth import QueryFlag
from service.deps import (
    NO_NUL,
    BlobStoreDep,
    ChannelsQuery,
    PageLimit,
    PageOffset,
    SessionDep,
    SettingsDep,
)
from service.http import Responses
from service.projects.access import project_sessions, project_url, request_project
from service.sessions import service
from service.sessions import stats as stats_service
from service.sessions.decoding import read_parts
from service.sessions.formats import UPLOAD_FORMAT_NAMES
from service.sessions.parsing import (
    ID_REGEX,
    MAX_FEATURE_NAME_LENGTH,
    MAX_LABEL_LENGTH,
    MAX_SAMPLE_RATE_HZ,
    MIN_SAMPLE_RATE_HZ,
    UploadOptions,
    declared_channels,
)
from service.sessions.schemas import (
    UPLOAD_BODY,
    Labels,
    SessionPage,
    SessionRead,
    Stats,
    UploadResult,
)
from service.sessions.storing import ingest

router = APIRouter(tags=["sessions"])
UPLOAD_ERRORS: Responses = {
    400: {"description": "Malformed body (CSV, JSON, gzip or multipart)"},
    409: {"description": "A session exists with different content"},
    413: {"description": "Body too large"},
    415: {"description": "Unsupported content type"},
    422: {"description": "Invalid sessions: the problem names the session, row and column"},
}
Label = Annotated[str | None, Query(min_length=1, max_length=MAX_LABEL_LENGTH)]
ColumnName = Annotated[str, Query(min_length=1, max_length=MAX_FEATURE_NAME_LENGTH)]
Split = Literal["train", "valid", "test"]
UploadFormatName = Literal[UPLOAD_FORMAT_NAMES]  # type: ignore[valid-type]  # ?format='s enum


def upload_options(
    settings: SettingsDep,
    session_column: ColumnName = "sessionId",
    label_column: ColumnName = "activity",
    subject_column: ColumnName = "subject",
    split_column: ColumnName = "split",
    timestamp_column: ColumnName = "timestamp",
    session_id: Annotated[
        str | None, Query(pattern=ID_REGEX, description="Id for a file of one session")
    ] = None,
    activity: Annotated[
        str | None,
        Query(min_length=1, max_length=MAX_LABEL_LENGTH, description="Label of a one-session file"),
    ] = None,
    subject: Label = None,
    split: Split | None = None,
    sample_rate_hz: Annotated[
        float | None, Query(ge=MIN_SAMPLE_RATE_HZ, le=MAX_SAMPLE_RATE_HZ)
    ] = None,
    channels: ChannelsQuery = None,
) -> UploadOptions:
    return UploadOptions(
        session_column=session_column,
        label_column=label_column,
        subject_column=subject_column,
        split_column=split_column,
        timestamp_column=timestamp_column,
        session_id=session_id,
        activity=activity,
        subject=subject,
        split=split,
        sample_rate_hz=sample_rate_hz,
        channels=declared_channels(channels),
        max_features=settings.max_features,
        max_upload_bytes=settings.max_upload_bytes,
        edge_impulse_hmac_key=(
            settings.edge_impulse_hmac_key.get_secret_value()
            if settings.edge_impulse_hmac_key
            else None
        ),
    )


@router.post(
    "/sessions",
    status_code=201,
    response_model=UploadResult,
    responses={
        200: {"description": "Every session was stored already with this content: a no-op"},
        201: {"description": "Stored; Location names the first new session"},
        **UPLOAD_ERRORS,
    },
    openapi_extra=UPLOAD_BODY,
)
async def upload_sessions(
    request: Request,
    response: Response,
    store: BlobStoreDep,
    settings: SettingsDep,
    options: Annotated[UploadOptions, Depends(upload_options)],
    replace: QueryFlag = False,
    format: Annotated[
        UploadFormatName | None,
        Query(description="The body's format, whatever its content type says"),
    ] = None,
) -> UploadResult:
    """Upload sessions: stacked CSV, JSON, Edge Impulse files (JSON / CBOR), Sensor Logger
    zips, or multipart files of those, optionally gzip; all or nothing."""
    parts = await read_parts(request, settings, format)
    # One thread hop: parse, store and commit (ingest owns the upload's unit of work).
    results = await run_in_threadpool(
        ingest,
        project_sessions(request),
        store=store,
        parts=parts,
        options=options,
        replace=replace,
        max_stored_bytes=settings.project_max_stored_bytes,
    )
    changed = [r for r in results if r.created or r.replaced]
    if changed:
        response.headers["Location"] = project_url(
            request_project(request), f"sessions/{changed[0].id}"
        )
    response.status_code = 201 if changed else 200
    return UploadResult(sessions=results)


@router.get("/sessions", response_model=SessionPage)
def list_sessions(
    db: SessionDep,
    activity: Annotated[str | None, Query(pattern=NO_NUL)] = None,
    subject: Annotated[str | None, Query(pattern=NO_NUL)] = None,
    split: Split | None = None,
    limit: PageLimit = 100,
    offset: PageOffset = 0,
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
def get_samples(
    request: Request,
    db: SessionDep,
    store: BlobStoreDep,
    session_id: str,
    units: Annotated[
        Literal["stored", "canonical"],
        Query(
            description="stored: the columns as uploaded; canonical: the session as a run "
            "reads it, each canonical feature in its canonical unit"
        ),
    ] = "stored",
):
    """A session's samples: CSV (default) or, with Accept: application/json, upload JSON
    with the columns' channels."""
    row = service.get_session(db, session_id=session_id)
    table = service.read_samples(db, store=store, session_id=session_id)
    layout = layout_of(row.channels)
    if units == "canonical":
        table, layout = service.canonical_samples(table, layout)
    if "application/json" in request.headers.get("accept", ""):
        document = {
            "id": row.id,
            "activity": row.activity,
            "subject": row.subject,
            "split": row.split,
            "sample_rate_hz": row.sample_rate_hz,
            "columns": table.column_names,
            "channels": {c.column: c.declaration for c in layout.channels},
            "samples": np.column_stack([c.to_numpy() for c in table.columns]).tolist(),
        }
        return Response(json.dumps(document), media_type="application/json")
    out = io.BytesIO()
    pacsv.write_csv(table, out)
    return Response(out.getvalue(), media_type="text/csv")


@router.delete("/sessions/{session_id}", status_code=204, responses={404: {}})
def delete_session(db: SessionDep, store: BlobStoreDep, session_id: str) -> Response:
    """Delete a session; its samples go too unless another session or a run references them."""
    service.delete_session(db, store=store, session_id=session_id)
    return Response(status_code=204)


@router.get("/labels", response_model=Labels)
def labels(db: SessionDep) -> Labels:
    """The activities and subjects in use: what a recorder offers (upload scope suffices)."""
    return Labels(**service.labels(db))


@router.get("/stats", response_model=Stats)
def stats(db: SessionDep) -> Stats:
    """Sessions, rows and seconds per activity, subject and split, with imbalance warnings."""
    return stats_service.session_stats(db)
