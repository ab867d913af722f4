"""Annotated dependency aliases, defined once: what a route declares it needs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from core.db import unit_of_work
from core.models import Run
from core.settings import Settings
from core.storage import PackStore
from service.content_encoding import read_samples_body
from service.http import samples_limit
from service.predictions.rows import check_media_type, check_not_empty
from service.predictions.schemas import EvaluateOptions, PredictOptions, RowsBody
from service.projects.access import project_sessions
from service.runs.service import get_run, require_succeeded
from service.sessions.decoding import media_type
from service.sessions.parsing import declared_channels
from workers.exports.formats import Precision


def app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_db(request: Request) -> Iterator[Session]:
    """One unit of work per request: committed when the route returns, rolled back on error."""
    with unit_of_work(project_sessions(request)) as session:
        yield session


def get_blob_store(request: Request) -> PackStore:
    return request.app.state.blob_store


SettingsDep = Annotated[Settings, Depends(app_settings)]
# Pages of a list: SQLite integers stop at 2**63, far beyond any real offset.
MAX_OFFSET = 2**31 - 1
# The pattern of a text filter: any text but U+0000, which PostgreSQL's text cannot hold.
NO_NUL = r"^[^\x00]*$"
PageLimit = Annotated[int, Query(ge=1, le=1000, description="Items per page")]
# ?channels= of uploads and of rows to predict on (service/sessions/parsing.declared_channels).
ChannelsQuery = Annotated[
    str | None,
    Query(
        max_length=16 * 1024,
        pattern=NO_NUL,
        description="What columns hold, where their names do not say it: comma-separated "
        "column=sensor.axis:unit, e.g. accX=accelerometer.x:m/s2,gyrX=:deg/s,hr=other:bpm "
        "(README: Channels and units)",
    ),
]
PageOffset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip")]
SessionDep = Annotated[Session, Depends(get_db, scope="function")]
BlobStoreDep = Annotated[PackStore, Depends(get_blob_store)]


def succeeded_run(db: SessionDep, run_id: str) -> Run:
    """The run of the path: 404 when unknown, 409 until it has succeeded."""
    run = get_run(db, run_id=run_id)
    require_succeeded(run)
    return run


SucceededRunDep = Annotated[Run, Depends(succeeded_run)]


async def rows_body(request: Request) -> RowsBody:
    """The body's rows: 415 before reading a byte, gunzipped, 400 when empty."""
    kind = check_media_type(media_type(request.headers.get("content-type")))
    data = await read_samples_body(request, samples_limit(app_settings(request), kind))
    check_not_empty(data)
    return RowsBody(data, kind, app_settings(request).max_features)


async def predict_options(
    output_frequency: Literal["per_row", "per_window"] = "per_row",
    output_type: Literal["class", "probability_vector", "topk"] = "class",
    k: Annotated[int, Query(ge=1, le=1000, description="Classes per entry with topk")] = 3,
    session_column: Annotated[
        str, Query(description="Session id column of CSV rows; absent: one session")
    ] = "sessionId",
    channels: ChannelsQuery = None,
) -> PredictOptions:
    return PredictOptions(
        output_frequency, output_type, k, session_column, declared_channels(channels)
    )


async def evaluate_options(
    session_column: str = "sessionId",
    label_column: Annotated[str | None, Query(description="Default: the model's target")] = None,
    channels: ChannelsQuery = None,
) -> EvaluateOptions:
    return EvaluateOptions(session_column, label_column, declared_channels(channels))


def evaluate_arguments(request: Request, body: RowsBody, options: EvaluateOptions) -> dict:
    """The keyword arguments of an evaluate service function, from the request."""
    return {
        "settings": app_settings(request),
        "store": request.app.state.blob_store,
        "body": body,
        "options": options,
    }


PrecisionQuery = Annotated[
    Precision,
    Query(description="float16: half the size, computed in float16 on the device (iOS 17+)"),
]
# Async dependencies: the predict hot path makes no thread hop before its one real one.
RowsBodyDep = Annotated[RowsBody, Depends(rows_body)]
PredictOptionsDep = Annotated[PredictOptions, Depends(predict_options)]
EvaluateOptionsDep = Annotated[EvaluateOptions, Depends(evaluate_options)]
