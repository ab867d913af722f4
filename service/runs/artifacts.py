"""Files a run leaves in its directory: metrics, checkpoints, exported models."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.models import Run
from core.settings import Settings
from service.errors import Conflict, NotFound
from workers.engines.base import COREML_FILE, Engine, ModelFileMissing
from workers.engines.registry import UnknownEngine, get_engine


def run_dir(settings: Settings, run: Run) -> Path:
    return settings.runs_dir / run.id


def read_metrics(settings: Settings, run: Run) -> dict:
    path = run_dir(settings, run) / "metrics.json"
    if not path.exists():
        raise NotFound(f"run {run.id} has no metrics file")
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
    path = run_dir(settings, run) / COREML_FILE
    if not path.is_file():
        raise NotFound(
            f"run {run.id} has no Core ML model file {COREML_FILE}: the worker writes it when "
            "the run finishes, so this run predates that or lost the file; run it again"
        )
    return path


def native_model_file(settings: Settings, run: Run) -> Path:
    """The engine's own model file (a torch checkpoint, a zipped Turi Create model)."""
    engine = run_engine(run)
    with model_files_found():
        return engine.native_file(run_dir(settings, run))


def model_filename(run: Run) -> str:
    return f"{run.run_params.model.name}.mlmodel"
