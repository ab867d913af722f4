"""The real Turi Create 6.4.1 as a run executor (its Python 3.8 runner as a child process)."""

from __future__ import annotations

import json
from pathlib import Path

from workers.engines.registry import EngineStatus, RunContext, RunResult, base_versions
from workers.engines.torch import ActivityClassifier, Hyperparameters, MotionData
from workers.engines.torch.windows import make_chunks, window_table
from workers.engines.turicreate import TrainParams, availability, predict_data, train_parts

SUMMARY = "summary.json"

ENABLE_HINT = (
    "create its Python 3.8 environment with `make turicreate-env` (needs a Python 3.8: "
    "MOTIONLAB_TURICREATE_PYTHON, python3.8 on PATH, or pyenv), or point "
    "MOTIONLAB_TURICREATE_VENV at one"
)


class TuriCreateEngine:
    name = "turicreate"

    def status(self) -> EngineStatus:
        found = availability()
        detail = "Turi Create 6.4.1 in its own Python 3.8 environment (CPU)"
        if not found.available:
            detail = f"{found.reason}; {ENABLE_HINT}"
        return EngineStatus(
            self.name, found.available, found.version, "cpu" if found.available else None, detail
        )

    def run(self, context: RunContext) -> RunResult:
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


class TuriCreateModel(ActivityClassifier):
    """A saved Turi Create model served like the torch one: the same predict / classify /
    predict_topk / evaluate outputs, with probabilities from the Python 3.8 runner (which
    loads the model on each call: ~3 s of start-up, fine for trying a model, not for traffic).
    """

    # Not the parent's __init__: there is no torch network, only the saved Turi Create model.
    def __init__(self, run_dir: Path):
        summary = json.loads((run_dir / SUMMARY).read_text())
        self.model_dir = run_dir / "model"
        self.classes = list(summary["classes"])
        self.features = list(summary["features"])
        self.target = summary["target"]
        self.session_id = summary["session_id"]
        self.params = Hyperparameters(
            prediction_window=summary["prediction_window"],
            max_iterations=summary["max_iterations"],
            batch_size=summary["batch_size"],
        )
        self.num_sessions = summary.get("num_sessions")
        self.training_time = summary.get("training_time")

    def _probabilities(self, data: MotionData, output_frequency: str):
        data = data.with_features(self.features)
        result = predict_data(
            model_dir=self.model_dir, data=data, output_frequency=output_frequency
        )
        columns = [result.classes.index(str(c)) for c in self.classes]
        probabilities = result.probabilities[:, columns]  # (N or W, C) in our class order
        if output_frequency == "per_row":
            return probabilities, None
        return probabilities, window_table(data, make_chunks(data, self.prediction_window))


def load_model(run_dir: Path) -> TuriCreateModel:
    return TuriCreateModel(run_dir)
