"""HTTP routes: predict and evaluate with a run's trained model.

Predict is the hot path, so its dependencies are all async and the database work, parsing,
inference and JSON encoding happen in one worker-thread call (`in_unit_of_work`): FastAPI
runs every sync dependency (SessionDep, SettingsDep) in the thread pool, and those hops cost
more than a single-window prediction itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from core.db import unit_of_work
from core.settings import Settings
from service.predictions import service
from service.predictions.rows import check_media_type, check_not_empty
from service.predictions.schemas import Evaluation, Prediction, PredictOptions, RowsBody
from service.sessions.decoding import maybe_gunzip, media_type
from service.sessions.router import read_body

router = APIRouter(prefix="/v1", tags=["predictions"])
ERRORS = {
    400: {"description": "Empty or malformed body"},
    404: {"description": "Unknown run"},
    409: {"description": "The run has not succeeded, or its engine is not served"},
    413: {"description": "Body too large"},
    415: {"description": "Unsupported content type"},
    422: {"description": "Missing feature columns, non-numeric values, bad parameters"},
}
ROWS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}
JSON = "application/json"


def app_settings(request: Request) -> Settings:
    return request.app.state.settings


async def in_unit_of_work(request: Request, function: Callable[..., Any], /, **kwargs) -> Any:
    """`function(db, **kwargs)` in a worker thread, in one unit of work of its own."""

    def call() -> Any:
        with unit_of_work(request.app.state.session_factory) as db:
            return function(db, **kwargs)

    return await run_in_threadpool(call)


async def rows_body(request: Request) -> RowsBody:
    """The body's rows: 415 before reading a byte, gunzipped, 400 when empty."""
    kind = check_media_type(media_type(request.headers.get("content-type")))
    limit = app_settings(request).max_upload_bytes
    gzipped = request.headers.get("content-encoding", "").lower() == "gzip"
    data = maybe_gunzip(await read_body(request, limit), gzipped=gzipped, limit=limit)
    check_not_empty(data)
    return RowsBody(data, kind)


async def predict_options(
    output_frequency: Literal["per_row", "per_window"] = "per_row",
    output_type: Literal["class", "probability_vector", "topk"] = "class",
    k: Annotated[int, Query(ge=1, le=1000, description="Classes per entry with topk")] = 3,
    session_column: Annotated[
        str, Query(description="Session id column of CSV rows; absent: one session")
    ] = "sessionId",
) -> PredictOptions:
    return PredictOptions(output_frequency, output_type, k, session_column)


RowsBodyDep = Annotated[RowsBody, Depends(rows_body)]
PredictOptionsDep = Annotated[PredictOptions, Depends(predict_options)]


@router.post(
    "/runs/{run_id}/predict",
    response_class=Response,
    responses={200: {"model": Prediction, "content": {JSON: {}}}, **ERRORS},
    openapi_extra=ROWS_BODY,
)
async def predict(
    request: Request, body: RowsBodyDep, options: PredictOptionsDep, run_id: str
) -> Response:
    """Predict on posted rows (CSV or JSON): per row or per window; class, probabilities, top-k."""
    arguments = {"settings": app_settings(request), "run_id": run_id, "body": body}
    content = service.predict_inline(**arguments, options=options)
    if content is None:
        content = await in_unit_of_work(request, service.predict, **arguments, options=options)
    return Response(content, media_type=JSON)


def evaluate_options(
    session_column: str = "sessionId",
    label_column: Annotated[str | None, Query(description="Default: the model's target")] = None,
) -> dict[str, str | None]:
    return {"session_column": session_column, "label_column": label_column}


EvaluateOptionsDep = Annotated[dict, Depends(evaluate_options)]


async def evaluate_in_request(
    request: Request, evaluate: Callable[..., dict], body: RowsBody, options: dict, **target
) -> Evaluation:
    """Run `evaluate` (of a run or of a registry reference) on the request's rows or selection."""
    result = await in_unit_of_work(
        request,
        evaluate,
        settings=app_settings(request),
        store=request.app.state.blob_store,
        body=body,
        **options,
        **target,
    )
    return Evaluation(**result)


@router.post(
    "/runs/{run_id}/evaluate", response_model=Evaluation, responses=ERRORS, openapi_extra=ROWS_BODY
)
async def evaluate(
    request: Request, body: RowsBodyDep, options: EvaluateOptionsDep, run_id: str
) -> Evaluation:
    """The run's metric set on posted labelled rows or on stored sessions ({"splits": […]}…)."""
    return await evaluate_in_request(request, service.evaluate, body, options, run_id=run_id)
