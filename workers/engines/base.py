"""The engine contract: everything the worker, serving and downloads need from an engine.

An engine trains a run (`run`), leaves its model files in the run directory (the native
model and `model.mlmodel`, written by `export_coreml` when the run finishes) and loads what it
trained for predictions (`load_model`). Callers look an engine up by the run's engine name
(registry.py) and never branch on that name.
"""

from __future__ import annotations

import importlib.metadata
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from core.params import RunParams
from workers.exports.formats import MLMODEL

if TYPE_CHECKING:  # NumPy and Arrow: not in a worker process, which only watches runs
    from workers.motion_data import MotionData

COREML_FILE = MLMODEL.file_name  # every engine's Core ML model, in the run directory


class ModelFileMissing(FileNotFoundError):
    """A model file a run should have left in its directory is not there."""


@dataclass
class RunContext:
    """Everything an engine needs to execute one run."""

    run_id: str
    params: RunParams  # the run's frozen parameters
    parts: dict[str, MotionData]  # 'train' always; 'valid' / 'test' when the split made them
    run_dir: Path
    on_iteration: Callable[[dict[str, Any]], None]  # an IterationReport's fields, per epoch
    should_stop: Callable[[], bool]
    # The epoch in progress (a BatchProgress's fields), about every BATCH_PROGRESS_INTERVAL_S;
    # engines that cannot tell batches report nothing.
    on_batch: Callable[[dict[str, Any]], None] = lambda progress: None


@dataclass
class RunResult:
    metrics: dict[str, dict[str, Any]]  # part → the full metric set
    versions: dict[str, str]
    artifacts: dict[str, str] = field(default_factory=dict)  # name → file name in run_dir


@dataclass(frozen=True)
class EngineStatus:
    name: str
    available: bool
    version: str | None
    device: str | None
    detail: str  # how to enable it, when not available


@runtime_checkable
class Predictor(Protocol):
    """What serving needs from a trained model (workers.engines.classifier has it all)."""

    classes: list[Any]
    features: list[str]
    target: str

    @property
    def prediction_window(self) -> int: ...

    def predict(self, data, output_type: str, output_frequency: str) -> Any: ...

    def predict_topk(self, data, output_type: str, k: int, output_frequency: str) -> Any: ...

    def evaluate(self, data) -> dict[str, Any]: ...


@runtime_checkable
class Engine(Protocol):
    name: str
    # Its models predict in-process in about a millisecond, so a small request may be
    # answered on the API's event loop instead of in a worker thread.
    serves_inline: bool
    # The training recipes it has (core/recipes.py), and the one a run that names none gets:
    # a run's recipe is resolved through these when the run is created.
    recipes: tuple[str, ...]
    default_recipe: str

    def status(self) -> EngineStatus:
        """Whether this host can run it, its version and device, or how to enable it."""
        ...

    def run(self, context: RunContext) -> RunResult:
        """Train, evaluate every part and write the native model into context.run_dir."""
        ...

    def export_coreml(self, run_dir: Path, params: RunParams, *, run_id: str) -> Path:
        """Write run_dir / COREML_FILE for a trained run (params.model: its metadata)."""
        ...

    def native_file(self, run_dir: Path) -> Path:
        """The one file a user downloads as the engine's own model; ModelFileMissing if none."""
        ...

    def load_model(self, run_dir: Path) -> Predictor:
        """The trained model, for predict and evaluate; ModelFileMissing if it is not there."""
        ...


def missing_model_files(engine: Engine, run_dir: Path) -> list[str]:
    """What a finished run lacks of the model files every run leaves (empty: all in place)."""
    missing = [] if (run_dir / COREML_FILE).is_file() else [f"no Core ML model {COREML_FILE}"]
    try:
        engine.native_file(run_dir)
    except ModelFileMissing as error:
        missing.append(str(error))
    return missing


def base_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "motionlab": importlib.metadata.version("motionlab"),
        "numpy": importlib.metadata.version("numpy"),
    }
