"""Files a run leaves in the store: metrics, checkpoints, exported models (core/run_artifacts)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.models import Run
from core.run_artifacts import METRICS_FILE, run_artifacts
from core.settings import Settings
from service.errors import Conflict, NotFound
from workers.engines.base import COREML_FILE, Engine, ModelFileMissing
from workers.engines.registry import UnknownEngine, get_engine


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


def native_model_file(settings: Settings, run: Run) -> Path:
    """The engine's own model file (a torch checkpoint, a zipped Turi Create model)."""
    engine = run_engine(run)
    with model_files_found():
        return engine.native_file(run_dir(settings, run))


def model_filename(run: Run) -> str:
    return f"{run.run_params.model.name}.mlmodel"
