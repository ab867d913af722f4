"""HTTP routes for training runs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, StreamingResponse

from core.db import unit_of_work
from core.models import Run, RunStatus
from core.projects import project_of
from core.runs import FINISHED
from service.deps import (
    NO_NUL,
    BlobStoreDep,
    PageLimit,
    PageOffset,
    PrecisionQuery,
    SessionDep,
    SettingsDep,
    SucceededRunDep,
)
from service.http import (
    DOWNLOAD,
    ZIP_DOWNLOAD,
    Responses,
    answer_head_on_downloads,
    file_response,
)
from service.projects.access import project_sessions, project_url
from service.projects.limits import check_queued_runs
from service.runs import deletion, service
from service.runs.artifacts import export_response, native_model_file, read_metrics
from service.runs.schemas import EngineRead, ProgressRead, RunCreate, RunPage, RunRead
from workers.engines.registry import engines
from workers.exports.formats import MLMODEL, MLPACKAGE, ONNX

router = APIRouter(tags=["runs"])
UNKNOWN_RUN: Responses = {404: {"description": "Unknown run"}}
NOT_SUCCEEDED: Responses = {
    **UNKNOWN_RUN,
    409: {"description": "The run has not succeeded (yet)"},
}
NOT_CONVERTIBLE: Responses = {
    **UNKNOWN_RUN,
    409: {"description": "The run has not succeeded, or its model cannot take this format"},
}
# One Server-Sent Event: its name, and its data as a line of JSON.
SSE_EVENT = {
    "type": "object",
    "properties": {
        "event": {"enum": ["status", "batch", "progress", "metrics", "end"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
    "required": ["event", "data"],
}


def run_read(run: Run) -> RunRead:
    read = RunRead.model_validate(run)
    if run.started_at and run.finished_at:
        read.duration_s = (run.finished_at - run.started_at).total_seconds()
    return read


@router.post(
    "/runs",
    status_code=202,
    response_model=RunRead,
    responses={
        202: {"description": "Queued; Location is the run"},
        409: {"description": "The project's limit of queued runs is reached"},
        422: {"description": "Invalid request: selection, features, split, engine…"},
    },
)
def create_run(
    db: SessionDep, settings: SettingsDep, request: RunCreate, response: Response
) -> RunRead:
    """Queue a training run; its data selection, split and features are frozen now."""
    run = service.create_run(db, request=request, remote_engines=settings.remote_engine_names)
    check_queued_runs(db, settings.project_max_queued_runs)
    response.headers["Location"] = project_url(project_of(db), f"runs/{run.id}")
    return run_read(run)


@router.get("/runs", response_model=RunPage)
def list_runs(
    db: SessionDep,
    experiment: Annotated[str | None, Query(max_length=256, pattern=NO_NUL)] = None,
    status: RunStatus | None = None,
    sort: Annotated[
        str,
        Query(
            max_length=64,
            json_schema_extra={"pattern": service.SORT_PATTERN},
            description="created_at, finished_at, name, status or a summary metric "
            "(train_ / validation_ / test_ + accuracy, precision, recall, f1_score, log_loss, "
            "auc); - first: descending. E.g. -test_accuracy",
        ),
    ] = "-created_at",
    limit: PageLimit = 100,
    offset: PageOffset = 0,
) -> RunPage:
    """List runs (filter by experiment / status), sorted by a field or a summary metric."""
    runs, total = service.list_runs(
        db, experiment=experiment, status=status, sort=sort, limit=limit, offset=offset
    )
    return RunPage(items=[run_read(r) for r in runs], total=total, limit=limit, offset=offset)


@router.get("/runs/{run_id}", response_model=RunRead, responses=UNKNOWN_RUN)
def get_run(db: SessionDep, run_id: str) -> RunRead:
    """A run: params, data fingerprint, versions, status, attempts, timings, summary metrics."""
    return run_read(service.get_run(db, run_id=run_id))


@router.post(
    "/runs/{run_id}/cancel",
    response_model=RunRead,
    responses={**UNKNOWN_RUN, 409: {"description": "The run has ended already"}},
)
def cancel_run(db: SessionDep, run_id: str) -> RunRead:
    """Cancel: a queued run at once, a running one within a few seconds."""
    return run_read(service.cancel_run(db, run_id=run_id))


@router.delete(
    "/runs/{run_id}",
    status_code=204,
    responses={
        **UNKNOWN_RUN,
        409: {"description": "The run has not ended, or a model version is registered from it"},
    },
)
def delete_run(db: SessionDep, settings: SettingsDep, store: BlobStoreDep, run_id: str) -> Response:
    """Delete a finished run, its files, and the data it pinned (unless still referenced)."""
    deletion.delete_run(db, settings=settings, store=store, run_id=run_id)
    return Response(status_code=204)


@router.get("/runs/{run_id}/progress", response_model=list[ProgressRead], responses=UNKNOWN_RUN)
def get_progress(db: SessionDep, run_id: str) -> list[ProgressRead]:
    """Every training iteration stored so far."""
    service.get_run(db, run_id=run_id)
    return [ProgressRead.model_validate(p) for p in service.progress(db, run_id=run_id)]


@router.get("/runs/{run_id}/metrics", responses=NOT_SUCCEEDED)
def get_metrics(run: SucceededRunDep, settings: SettingsDep) -> dict:
    """Train / validation / test metrics of a succeeded run."""
    return read_metrics(settings, run)


@router.get(
    "/runs/{run_id}/model",
    response_class=FileResponse,
    responses={**DOWNLOAD, **NOT_SUCCEEDED},
)
def download_checkpoint(request: Request, run: SucceededRunDep, settings: SettingsDep):
    """The native model of a succeeded run: torch a .pt checkpoint, Turi Create a zipped
    model directory (turicreate.load_model after unzipping)."""
    path = native_model_file(settings, run)
    return file_response(request, path, f"{run.run_params.model.name}-{run.id}{path.suffix}")


@router.get(
    "/runs/{run_id}/model.mlmodel",
    response_class=FileResponse,
    responses={**DOWNLOAD, **NOT_SUCCEEDED},
)
def download_coreml(request: Request, run: SucceededRunDep, settings: SettingsDep):
    """The Core ML model (Turi Create's interface); ETag = sha256, 304 on If-None-Match."""
    return export_response(request, settings, run, MLMODEL, model_name=run.run_params.model.name)


@router.get(
    "/runs/{run_id}/model.onnx",
    response_class=FileResponse,
    responses={**DOWNLOAD, **NOT_CONVERTIBLE},
)
def download_onnx(request: Request, run: SucceededRunDep, settings: SettingsDep):
    """The ONNX model (per-feature inputs and stateIn, like the Core ML file; class labels in
    its metadata), converted on the first download; ETag = sha256, 304 on If-None-Match."""
    return export_response(request, settings, run, ONNX, model_name=run.run_params.model.name)


@router.get(
    "/runs/{run_id}/model.mlpackage.zip",
    response_class=FileResponse,
    responses={**ZIP_DOWNLOAD, **NOT_CONVERTIBLE},
)
def download_mlprogram(
    request: Request,
    run: SucceededRunDep,
    settings: SettingsDep,
    precision: PrecisionQuery = "float32",
):
    """The Core ML ML Program (iOS 15+; the .mlmodel's names), zipped; float16 on request.
    Converted on the first download; ETag = sha256, 304 on If-None-Match."""
    name = run.run_params.model.name
    return export_response(request, settings, run, MLPACKAGE, model_name=name, precision=precision)


@router.get(
    "/runs/{run_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Events until the run ends: status (with warnings), batch (the "
            "epoch in progress, about every half second), progress (an epoch done), metrics, end",
            "content": {"text/event-stream": {"schema": SSE_EVENT}},
        },
        **UNKNOWN_RUN,
    },
)
async def run_events(request: Request, db: SessionDep, run_id: str) -> StreamingResponse:
    """Server-Sent Events: status changes, the epoch in progress (`batch`), progress rows,
    then the final metrics; ends with the run."""
    service.get_run(db, run_id=run_id)
    factory, settings = project_sessions(request), request.app.state.settings
    return StreamingResponse(
        _events(factory, settings, run_id, request), media_type="text/event-stream"
    )


def _snapshot(factory, run_id: str, after: int):
    with unit_of_work(factory) as db:
        run = service.get_run(db, run_id=run_id)
        rows = [
            ProgressRead.model_validate(p) for p in service.progress(db, run_id=run_id, after=after)
        ]
        return run_read(run), rows


def _mark(factory, run_id: str) -> tuple | None:
    """What tells a stream that something changed: one row, read at every poll."""
    with unit_of_work(factory) as db:
        return service.change_mark(db, run_id=run_id)


async def _events(factory, settings, run_id: str, request: Request) -> AsyncIterator[str]:
    hub = request.app.state.run_events
    with hub.subscribe(run_id) as subscription:  # before the first read: no change is missed
        async for event in _follow(factory, settings, run_id, request, hub, subscription):
            yield event


async def _follow(factory, settings, run_id, request, hub, subscription) -> AsyncIterator[str]:
    last_status, last_iteration, last_live, seen = None, 0, None, None
    while True:
        mark = await run_in_threadpool(_mark, factory, run_id)
        if mark is None or mark != seen:  # a deleted run: the snapshot says so
            seen = mark
            run, rows = await run_in_threadpool(_snapshot, factory, run_id, last_iteration)
            finished = run.status in FINISHED
            if run.status != last_status and not finished:
                last_status = run.status
                yield _status_event(run)
            for row in rows:
                last_iteration = row.iteration
                yield sse("progress", row.model_dump())
            live = run.live_progress
            event = live.event(last_iteration) if live is not None and live != last_live else None
            if event is not None:
                yield sse(*event)
            last_live = live
            if finished:
                yield _status_event(run)
                if run.status == RunStatus.SUCCEEDED:
                    yield sse("metrics", read_metrics(settings, run))
                yield sse("end", {"status": run.status})
                return
        if await request.is_disconnected():
            return
        await hub.changed(subscription)


def _status_event(run: RunRead) -> str:
    return sse(
        "status",
        {
            "status": run.status,
            "attempts": run.attempts,
            "error_message": run.error_message,
            "warnings": run.warnings or [],
        },
    )


def sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"


@router.get("/engines", response_model=list[EngineRead], tags=["engines"])
def list_engines() -> list[EngineRead]:
    """Training engines on this server: available or not (and how to enable), version, device."""
    return [EngineRead(**vars(e.status())) for e in engines().values()]


answer_head_on_downloads(router)  # after every route above
