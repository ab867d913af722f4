"""Files a run leaves in the store: metrics, checkpoints, exported models (core/run_artifacts)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Literal

from core.models import Run
from core.run_artifacts import METRICS_FILE, run_artifacts
from core.settings import Settings
from service.errors import Conflict, NotFound
from service.lazy_imports import import_lazily
from workers.engines.base import COREML_FILE, Engine, ModelFileMissing
from workers.engines.registry import UnknownEngine, get_engine

ONNX_FILE = "model.onnx"
_CONVERTING = threading.Lock()
Precision = Literal["float32", "float16"]  # of an ML Program's weights and arithmetic
MLPACKAGE_ZIP_FILES: dict[Precision, str] = {
    "float32": "model.mlpackage.zip",
    "float16": "model-float16.mlpackage.zip",
}


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


def onnx_file(settings: Settings, run: Run) -> Path:
    """The run's ONNX model, converted from its Core ML model on the first download."""
    exporter = import_lazily("workers.onnx.export")  # onnx and coremltools: not at API start
    return _converted(settings, run, ONNX_FILE, exporter.export_onnx)


def mlpackage_file(settings: Settings, run: Run, precision: Precision) -> Path:
    """The run's zipped ML Program, converted from its Core ML model on the first download."""
    mlprogram = import_lazily("workers.coreml.mlprogram")
    convert = partial(
        mlprogram.export_mlpackage_zip, precision=precision, package_name=run.run_params.model.name
    )
    return _converted(settings, run, MLPACKAGE_ZIP_FILES[precision], convert)


def _converted(settings: Settings, run: Run, name: str, convert: Callable[..., Path]) -> Path:
    """A format converted from the run's `.mlmodel` (immutable once the run succeeded), cached
    beside it. One conversion at a time in the process: coremltools builds an ML Program in
    global state, so two at once corrupted each other (500s on the first downloads after a
    start); a download that waited finds the file its twin wrote."""
    path = run_dir(settings, run) / name
    if path.is_file():
        return path
    unsupported = (
        import_lazily("workers.coreml.evaluate").UnsupportedSpecError,
        import_lazily("workers.coreml.mlprogram").UnsupportedInterface,
    )
    with _CONVERTING:
        if path.is_file():
            return path
        try:
            convert(
                coreml_file(settings, run),
                path,
                engine=run.engine,
                recipe=str(run.run_params.recipe),
                **{"motionlab.run_id": run.id},
            )
        except unsupported as error:
            raise Conflict(f"run {run.id}: {error}") from None
    return path


def native_model_file(settings: Settings, run: Run) -> Path:
    """The engine's own model file (a torch checkpoint, a zipped Turi Create model)."""
    engine = run_engine(run)
    with model_files_found():
        return engine.native_file(run_dir(settings, run))


def model_filename(run: Run, suffix: str = ".mlmodel") -> str:
    return f"{run.run_params.model.name}{suffix}"


def mlpackage_filename(name: str, precision: Precision) -> str:
    return (
        f"{name}.mlpackage.zip" if precision == "float32" else f"{name}-{precision}.mlpackage.zip"
    )
