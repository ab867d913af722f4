"""HTTP routes of the model registry: versions, aliases, downloads and predictions by name."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import FileResponse

from core.projects import project_of
from service.deps import (
    EvaluateOptionsDep,
    PrecisionQuery,
    PredictOptionsDep,
    RowsBodyDep,
    SessionDep,
    SettingsDep,
    app_settings,
    evaluate_arguments,
)
from service.http import (
    DOWNLOAD,
    JSON,
    ZIP_DOWNLOAD,
    Responses,
    answer_head_on_downloads,
    in_unit_of_work,
)
from service.predictions.schemas import (
    EVALUATE_BODY,
    PREDICT_BODY,
    PREDICTION_ERRORS,
    Evaluation,
    Prediction,
)
from service.projects.access import project_url
from service.registry import service
from service.registry.schemas import (
    ALIAS_PATTERN,
    MODEL_NAME_PATTERN,
    REFERENCE_PATTERN,
    AliasRead,
    AliasUpdate,
    ModelDetail,
    ModelSummary,
    VersionCreate,
    VersionDetail,
    VersionRead,
)
from service.runs.artifacts import export_response
from workers.exports.formats import MLMODEL, MLPACKAGE, ONNX

router = APIRouter(tags=["models"])
ModelName = Annotated[
    str,
    Path(
        pattern=MODEL_NAME_PATTERN,
        description="Registered model name: 1-128 of A-Z a-z 0-9 . _ -, not starting with a dot",
    ),
]
AliasName = Annotated[str, Path(pattern=ALIAS_PATTERN, description="e.g. production, staging")]
Reference = Annotated[
    str, Path(pattern=REFERENCE_PATTERN, description="A version number, an alias, or latest")
]
UNKNOWN_MODEL: Responses = {404: {"description": "Unknown model, version or alias"}}
NOT_CONVERTIBLE: Responses = {
    409: {"description": "Its run has not succeeded, or its model cannot take this format"}
}


@router.post(
    "/models/{name}/versions",
    status_code=201,
    response_model=VersionRead,
    responses={
        201: {"description": "Registered; Location is the new version"},
        404: {"description": "Unknown run"},
        409: {"description": "Run not succeeded"},
    },
)
def register_version(
    db: SessionDep, name: ModelName, request: VersionCreate, response: Response
) -> VersionRead:
    """Register a succeeded run as the next version of a model (created on first use)."""
    version = service.register_version(db, name=name, run_id=request.run_id)
    response.headers["Location"] = project_url(project_of(db), f"models/{name}/{version.version}")
    return VersionRead.model_validate(version)


@router.put(
    "/models/{name}/aliases/{alias}",
    response_model=AliasRead,
    responses={404: {"description": "Unknown model or version"}},
)
def set_alias(db: SessionDep, name: ModelName, alias: AliasName, request: AliasUpdate) -> AliasRead:
    """Point an alias (production, staging, …) at a version; moves it if it exists."""
    return AliasRead.model_validate(
        service.set_alias(db, name=name, alias=alias, version=request.version)
    )


@router.delete(
    "/models/{name}/aliases/{alias}",
    status_code=204,
    responses={404: {"description": "Unknown model or alias"}},
)
def delete_alias(db: SessionDep, name: ModelName, alias: AliasName) -> Response:
    """Remove an alias; the version it pointed at stays."""
    service.delete_alias(db, name=name, alias=alias)
    return Response(status_code=204)


@router.get("/models", response_model=list[ModelSummary])
def list_models(db: SessionDep) -> list[ModelSummary]:
    """Registered models with their version count, latest version and aliases."""
    return service.list_models(db)


@router.get("/models/{name}", response_model=ModelDetail, responses=UNKNOWN_MODEL)
def get_model(db: SessionDep, settings: SettingsDep, name: ModelName) -> ModelDetail:
    """A model: aliases, and each version with its run and test metrics (newest first)."""
    return service.get_model(db, settings=settings, name=name)


@router.get("/models/{name}/versions", response_model=list[VersionDetail], responses=UNKNOWN_MODEL)
def list_versions(db: SessionDep, settings: SettingsDep, name: ModelName) -> list[VersionDetail]:
    """A model's versions with their aliases, runs and test metrics (newest first)."""
    return service.get_model(db, settings=settings, name=name).versions


@router.get("/models/{name}/{ref}", response_model=VersionDetail, responses=UNKNOWN_MODEL)
def get_version(
    db: SessionDep, settings: SettingsDep, name: ModelName, ref: Reference
) -> VersionDetail:
    """A version / alias / latest: its aliases, run and test metrics."""
    return service.get_version(db, settings=settings, name=name, ref=ref)


@router.get(
    "/models/{name}/{ref}/model.mlmodel",
    response_class=FileResponse,
    responses={**DOWNLOAD, **UNKNOWN_MODEL, 409: {"description": "Its run has not succeeded"}},
)
def download_coreml(
    request: Request, db: SessionDep, settings: SettingsDep, name: ModelName, ref: Reference
) -> Response:
    """The Core ML model of a version / alias / latest; ETag = sha256, 304 on If-None-Match."""
    run = service.succeeded_run(db, name=name, ref=ref)
    return export_response(request, settings, run, MLMODEL, model_name=name)


@router.get(
    "/models/{name}/{ref}/model.onnx",
    response_class=FileResponse,
    responses={**DOWNLOAD, **UNKNOWN_MODEL, **NOT_CONVERTIBLE},
)
def download_onnx(
    request: Request, db: SessionDep, settings: SettingsDep, name: ModelName, ref: Reference
) -> Response:
    """The ONNX model of a version / alias / latest (as GET /v1/runs/{id}/model.onnx)."""
    run = service.succeeded_run(db, name=name, ref=ref)
    return export_response(request, settings, run, ONNX, model_name=name)


@router.get(
    "/models/{name}/{ref}/model.mlpackage.zip",
    response_class=FileResponse,
    responses={**ZIP_DOWNLOAD, **UNKNOWN_MODEL, **NOT_CONVERTIBLE},
)
def download_mlprogram(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    name: ModelName,
    ref: Reference,
    precision: PrecisionQuery = "float32",
) -> Response:
    """The zipped ML Program of a version / alias / latest (as the run's)."""
    run = service.succeeded_run(db, name=name, ref=ref)
    return export_response(request, settings, run, MLPACKAGE, model_name=name, precision=precision)


@router.post(
    "/models/{name}/{ref}/predict",
    response_class=Response,
    responses={200: {"model": Prediction, "content": {JSON: {}}}, **PREDICTION_ERRORS},
    openapi_extra=PREDICT_BODY,
)
async def predict(
    request: Request, body: RowsBodyDep, options: PredictOptionsDep, name: ModelName, ref: Reference
) -> Response:
    """Predict with a version / alias / latest, exactly as POST /v1/runs/{id}/predict."""
    content = await in_unit_of_work(
        request,
        service.predict,
        settings=app_settings(request),
        name=name,
        ref=ref,
        body=body,
        options=options,
    )
    return Response(content, media_type=JSON)


@router.post(
    "/models/{name}/{ref}/evaluate",
    response_model=Evaluation,
    responses=PREDICTION_ERRORS,
    openapi_extra=EVALUATE_BODY,
)
async def evaluate(
    request: Request,
    body: RowsBodyDep,
    options: EvaluateOptionsDep,
    name: ModelName,
    ref: Reference,
) -> Evaluation:
    """Metrics of a version / alias / latest, exactly as POST /v1/runs/{id}/evaluate."""
    result = await in_unit_of_work(
        request, service.evaluate, **evaluate_arguments(request, body, options), name=name, ref=ref
    )
    return Evaluation(**result)


answer_head_on_downloads(router)  # after every route above
