"""The real Turi Create 6.4.1 behind the engine contract (its Python 3.8 runner as a child
process; see runner_client.py)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from core.atomic import atomic_path, write_bytes_atomic
from core.params import RunParams
from core.recipes import TURICREATE
from workers.engines.base import (
    COREML_FILE,
    EngineStatus,
    ModelFileMissing,
    RunContext,
    RunResult,
    base_versions,
)
from workers.engines.turicreate.environment import availability
from workers.engines.turicreate.results import SUMMARY, TRAINED_MLMODEL

if TYPE_CHECKING:  # NumPy: loaded when the engine trains or serves, not when looked up
    from workers.engines.turicreate.model import TuriCreateModel

MODEL_DIR = "model"  # turicreate's model.save() directory (results.py)
MODEL_ZIP = "model.zip"  # that directory zipped: the native download
ENABLE_HINT = (
    "create its Python 3.8 environment with `make turicreate-env` (needs a Python 3.8: "
    "MOTIONLAB_TURICREATE_PYTHON, python3.8 on PATH, or pyenv), or point "
    "MOTIONLAB_TURICREATE_VENV at one"
)


class TuriCreateEngine:
    name = "turicreate"
    # Its models predict from their exported .mlmodel in NumPy (model.py): a few windows in
    # well under a millisecond, in-process.
    serves_inline = True
    recipes: tuple[str, ...] = (TURICREATE,)  # Turi Create trains its own way, only
    default_recipe = TURICREATE

    def status(self) -> EngineStatus:
        found = availability()
        detail = "Turi Create 6.4.1 in its own Python 3.8 environment (CPU)"
        if not found.available:
            detail = f"{found.reason}; {ENABLE_HINT}"
        return EngineStatus(
            self.name, found.available, found.version, "cpu" if found.available else None, detail
        )

    def run(self, context: RunContext) -> RunResult:
        from workers.engines.turicreate.runner_client import TrainParams, train_parts

        result = train_parts(
            parts=context.parts,
            params=TrainParams.from_run_params(context.params),
            out_dir=context.run_dir,
            on_iteration=context.on_iteration,
            should_stop=context.should_stop,
        )
        engine_versions = {
            ("python_turicreate" if key == "python" else key): value
            for key, value in result.versions.items()
            if value is not None
        }
        return RunResult(
            metrics=result.metrics(),
            versions={**base_versions(), **engine_versions},
            artifacts=result.artifacts(context.run_dir),
        )

    def export_coreml(self, run_dir: Path, params: RunParams, *, run_id: str) -> Path:
        # The runner already wrote Turi Create's own export (the reference interface) of a
        # network trained on the run's canonical values: the run's inputs are folded into it.
        # The unfolded file is kept first (TRAINED_MLMODEL): predictions and metrics step it
        # with canonical values, and a second export folds from it, never twice.
        from coremltools.models.utils import load_spec

        from workers.exports.coreml.inputs import declare_inputs
        from workers.exports.coreml.network import save_spec_atomically

        path, trained = run_dir / COREML_FILE, run_dir / TRAINED_MLMODEL
        if not trained.is_file():
            if not path.is_file():
                raise ModelFileMissing(
                    f"Turi Create left no Core ML model {COREML_FILE} in {run_dir}"
                )
            write_bytes_atomic(trained, path.read_bytes())
        spec = load_spec(str(trained))
        declare_inputs(spec, params)
        return save_spec_atomically(spec, path)

    def native_file(self, run_dir: Path) -> Path:
        """The saved model directory, zipped once (atomically: concurrent callers agree)."""
        path = run_dir / MODEL_ZIP
        if path.is_file():
            return path
        if not (run_dir / MODEL_DIR).is_dir():
            raise ModelFileMissing(f"run {run_dir.name} has no Turi Create model directory")
        with atomic_path(path) as tmp:
            shutil.make_archive(tmp, "zip", run_dir, MODEL_DIR)  # writes tmp + ".zip"
            Path(f"{tmp}.zip").replace(tmp)
        return path

    def load_model(self, run_dir: Path) -> TuriCreateModel:
        from workers.engines.turicreate.model import TuriCreateModel

        if not (run_dir / SUMMARY).is_file():
            raise ModelFileMissing(f"run {run_dir.name} has no Turi Create model summary {SUMMARY}")
        return TuriCreateModel(run_dir)
