"""A saved Turi Create model served like any other: the same predict / classify /
predict_topk / evaluate outputs and model fields (workers.engines.classifier).

Probabilities come from this process' long-lived Python 3.8 runner (prediction_server.py),
which starts on the first prediction (~3 s) and keeps the models it loaded. There is no
`step`: streaming needs the network in this process; the exported `model.mlmodel` streams on
the device instead.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from workers.engines.classifier import TrainedClassifier
from workers.engines.turicreate.results import TrainResult
from workers.engines.turicreate.runner_client import predict_data
from workers.model.hyperparameters import Hyperparameters
from workers.model.windows import make_chunks, window_table
from workers.motion_data import MotionData

SUMMARY = "summary.json"  # the runner's summary of a training run (results.py)


class TuriCreateModel(TrainedClassifier):
    """The Turi Create model a run left in `run_dir`, described by its summary.json."""

    def __init__(self, run_dir: Path):
        summary = json.loads((run_dir / SUMMARY).read_text())
        reported = summary.get("model_fields", {})  # what Turi Create itself reported
        super().__init__(
            classes=summary["classes"],
            features=summary["features"],
            target=summary["target"],
            session_id=summary["session_id"],
            params=Hyperparameters(
                prediction_window=summary["prediction_window"],
                max_iterations=summary["max_iterations"],
                batch_size=summary["batch_size"],
                random_seed=reported.get("random_seed"),
            ),
            num_sessions=summary.get("num_sessions"),
            num_examples=reported.get("num_examples"),
            training_time=summary.get("training_time"),
        )
        self.training_iterations = reported.get("training_iterations")
        self._result = TrainResult(out_dir=run_dir, summary=summary)
        self.model_dir = self._result.model_dir

    # The run's own metric set, from the per-row probabilities the runner wrote; computed
    # when asked (a served model rarely is), not on every load.
    @cached_property
    def training_metrics(self) -> dict[str, Any]:
        return self._result.part_metrics("train")

    @cached_property
    def validation_metrics(self) -> dict[str, Any] | None:
        return self._result.part_metrics("valid") if "valid" in self._result.parts else None

    def _probabilities(
        self, data: MotionData, output_frequency: str
    ) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
        data = data.with_features(self.features)
        result = predict_data(
            model_dir=self.model_dir, data=data, output_frequency=output_frequency
        )
        columns = [result.classes.index(str(c)) for c in self.classes]
        probabilities = result.probabilities[:, columns]  # (N or W, C) in our class order
        if output_frequency == "per_row":
            return probabilities, None
        return probabilities, window_table(data, make_chunks(data, self.prediction_window))
