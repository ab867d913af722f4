"""A saved Turi Create model served like any other: the same predict / classify /
predict_topk / evaluate outputs and model fields (workers.engines.classifier).

Probabilities come from the run's exported `model.mlmodel` (Turi Create's own export), stepped
in NumPy in this process (workers/exports/coreml/stream.py): what Turi Create's predict answers
within 1e-4 (it computes in float32; tests/workers/engines/turicreate prove it on the real
engine), in well under a millisecond a window instead of about a second a call (Turi Create
builds its Keras network again on every predict). Streaming steps the same network.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from workers.engines.classifier import TrainedClassifier
from workers.engines.turicreate.results import SUMMARY, TrainResult
from workers.model.hyperparameters import Hyperparameters
from workers.model.windows import Chunks

if TYPE_CHECKING:
    from workers.exports.coreml.stream import NetworkStreamer


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

    # The run's own metric set, computed when the run trained (results.py); read when asked.
    @cached_property
    def training_metrics(self) -> dict[str, Any]:
        return self._result.metrics()["train"]

    @cached_property
    def validation_metrics(self) -> dict[str, Any] | None:
        return self._result.metrics().get("validation")

    @cached_property
    def streamer(self) -> NetworkStreamer:
        """The exported model's network, stepped in NumPy (coremltools loads on first use)."""
        from workers.exports.coreml.network import read_network
        from workers.exports.coreml.stream import NetworkStreamer

        streamer = NetworkStreamer(read_network(self._result.mlmodel_path))
        if [str(c) for c in streamer.classes] != [str(c) for c in self.classes]:
            raise ValueError(
                f"{self._result.mlmodel_path} has classes {streamer.classes}; the run's summary "
                f"says {self.classes}"
            )
        return streamer

    def _window_probabilities(self, chunks: Chunks) -> np.ndarray:
        return self.streamer.window_probabilities(chunks)

    # Live streams step the same network (workers/live.py's Streamer).
    def step_many(self, windows: np.ndarray, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.streamer.step_many(windows, states)
