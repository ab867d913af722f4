"""Files a run leaves in its directory: metrics, checkpoints, exported models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from core.models import Run
from core.settings import Settings
from core.storage import atomic_path
from service.errors import NotFound


def run_dir(settings: Settings, run: Run) -> Path:
    return settings.runs_dir / run.id


def read_metrics(settings: Settings, run) -> dict:
    path = settings.runs_dir / run.id / "metrics.json"
    if not path.exists():
        raise NotFound(f"run {run.id} has no metrics file")
    return json.loads(path.read_text())


COREML_FILE = "model.mlmodel"


def coreml_file(settings: Settings, run: Run) -> Path:
    """The run's Core ML model: exported once from the checkpoint, then served from disk.

    Turi Create runs leave the file Turi Create itself exported; torch runs export on the
    first request (atomically, so concurrent first requests are harmless).
    """
    path = run_dir(settings, run) / COREML_FILE
    if path.exists():
        return path
    from workers.coreml.export import export_model
    from workers.engines.torch_engine import load_model

    model_info = run.run_params.model
    export_model(
        load_model(run_dir(settings, run)),
        path,
        run_id=run.id,
        short_description=model_info.short_description,
        author=model_info.author,
        license=model_info.license,
        version_string=model_info.version,
    )
    return path


def native_model_file(settings: Settings, run: Run) -> Path:
    directory = run_dir(settings, run)
    if run.engine == "torch":
        path = directory / "model.pt"
    else:  # Turi Create saves a directory: zip it once
        path = directory / "model.zip"
        if not path.exists() and (directory / "model").is_dir():
            with atomic_path(path) as tmp:
                shutil.make_archive(str(tmp), "zip", directory, "model")
                Path(f"{tmp}.zip").replace(tmp)
    if not path.exists():
        raise NotFound(f"run {run.id} has no native model file")
    return path


def model_filename(run: Run) -> str:
    return f"{run.run_params.model.name}.mlmodel"
