"""HTTP routes: predict and evaluate with a run's trained model.

Predict is the hot path, so its dependencies are all async and the database work, parsing,
inference and JSON encoding happen in one worker-thread call (`in_unit_of_work`): FastAPI
runs every sync dependency (SessionDep, SettingsDep) in the thread pool, and those hops cost
more than a single-window prediction itself.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from service.deps import (
    EvaluateOptionsDep,
    PredictOptionsDep,
    RowsBodyDep,
    app_settings,
    evaluate_arguments,
)
from service.http import JSON, in_unit_of_work
from service.predictions import service
from service.predictions.schemas import (
    EVALUATE_BODY,
    PREDICT_BODY,
    PREDICTION_ERRORS,
    Evaluation,
    Prediction,
)

router = APIRouter(tags=["predictions"])


@router.post(
    "/runs/{run_id}/predict",
    response_class=Response,
    responses={200: {"model": Prediction, "content": {JSON: {}}}, **PREDICTION_ERRORS},
    openapi_extra=PREDICT_BODY,
)
async def predict(
    request: Request, body: RowsBodyDep, options: PredictOptionsDep, run_id: str
) -> Response:
    """Predict on posted rows (CSV or JSON): per row or per window; class, probabilities, top-k."""
    settings = app_settings(request)
    content = service.predict_inline(settings=settings, run_id=run_id, body=body, options=options)
    if content is None:
        content = await in_unit_of_work(
            request, service.predict, settings=settings, run_id=run_id, body=body, options=options
        )
    return Response(content, media_type=JSON)


@router.post(
    "/runs/{run_id}/evaluate",
    response_model=Evaluation,
    responses=PREDICTION_ERRORS,
    openapi_extra=EVALUATE_BODY,
)
async def evaluate(
    request: Request, body: RowsBodyDep, options: EvaluateOptionsDep, run_id: str
) -> Evaluation:
    """The run's metric set on posted labelled rows or on stored sessions ({"splits": […]}…)."""
    result = await in_unit_of_work(
        request, service.evaluate, **evaluate_arguments(request, body, options), run_id=run_id
    )
    return Evaluation(**result)
