"""Files a run leaves in the store: metrics, checkpoints, exported models (core/run_artifacts)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import Request, Response

from core.models import Run
from core.run_artifacts import METRICS_FILE, run_artifacts
from core.settings import Settings
from service.errors import Conflict, NotFound
from service.http import file_response
from service.lazy_imports import import_lazily
from workers.engines.base import COREML_FILE, Engine, ModelFileMissing
from workers.engines.registry import UnknownEngine, get_engine
from workers.exports.formats import ExportFormat, NotConvertible, Precision

_CONVERTING = threading.Lock()


def run_dir(settings: Settings, run: Run) -> Path:
    """A directory on this host with every file of the succeeded run (read through the
    store: a copy under the home when the store is S3)."""
    return run_artifacts(settings).directory(run.id)


def read_metrics(settings: Settings, run: Run) -> dict:
    try:
        path = run_artifacts(settings).file(run.id, METRICS_FILE)
    except FileNotFoundError:
        raise NotFound(f"run {run.id} has no metrics file") from None
    return json.loads(path.read_text())


def run_engine(run: Run) -> Engine:
    """The engine that trained `run`: 409 when this server does not have it."""
    try:
        return get_engine(run.engine)
    except UnknownEngine as error:
        raise Conflict(
            f"run {run.id} was trained with the {run.engine!r} engine, which this server does "
            f"not have (it has {', '.join(map(repr, error.known))}). Its Core ML model is at "
            f"GET /v1/runs/{run.id}/model.mlmodel"
        ) from None


@contextmanager
def model_files_found() -> Iterator[None]:
    """A model file the engine expected and did not find is a 404, with its message."""
    try:
        yield
    except ModelFileMissing as error:
        raise NotFound(str(error)) from None


def coreml_file(settings: Settings, run: Run) -> Path:
    """The run's Core ML model, written by the worker when the run finished."""
    try:
        return run_artifacts(settings).file(run.id, COREML_FILE)
    except FileNotFoundError:
        raise NotFound(
            f"run {run.id} has no Core ML model file {COREML_FILE}: the worker writes it when "
            "the run finishes, so this run predates that or lost the file; run it again"
        ) from None


def export_file(
    settings: Settings, run: Run, export: ExportFormat, precision: Precision | None = None
) -> Path:
    """The run's model in `export`'s format: the `.mlmodel` the worker wrote, or a format
    converted from it on the first download and kept beside it (the `.mlmodel` is immutable
    once the run succeeded).

    One conversion at a time in the process: coremltools builds an ML Program in global
    state, so two at once corrupted each other (500s on the first downloads after a start); a
    download that waited finds the file its twin wrote. coremltools itself is imported first
    through service.lazy_imports, so that a predictor loading at the same time cannot see it
    half-initialised."""
    if export.converter is None:
        return coreml_file(settings, run)
    path = run_dir(settings, run) / export.stored_name(precision)
    if path.is_file():
        return path
    with _CONVERTING:
        if path.is_file():
            return path
        import_lazily("coremltools")  # not at API start: seconds
        metadata = {"engine": run.engine, "recipe": str(run.run_params.recipe)}
        try:
            export.converter(
                coreml_file(settings, run),
                path,
                run.run_params.model.name,
                precision or export.precisions[0],
                {**metadata, "motionlab.run_id": run.id},
            )
        except NotConvertible as error:
            raise Conflict(f"run {run.id}: {error}") from None
    return path


def export_response(
    request: Request,
    settings: Settings,
    run: Run,
    export: ExportFormat,
    *,
    model_name: str,
    precision: Precision | None = None,
) -> Response:
    """A download of the run's model in `export`'s format, saved as `model_name` + its suffix;
    ETag = sha256, 304 on If-None-Match."""
    path = export_file(settings, run, export, precision)
    name = export.download_name(model_name, precision)
    return file_response(request, path, name, media_type=export.media_type)


def native_model_file(settings: Settings, run: Run) -> Path:
    """The engine's own model file (a torch checkpoint, a zipped Turi Create model)."""
    engine = run_engine(run)
    with model_files_found():
        return engine.native_file(run_dir(settings, run))
