"""The trained torch activity classifier: its network, streaming, save / load.

Predict, classify, top-k, evaluate and the model fields are every engine's
(workers.engines.classifier); this class computes the probabilities with the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from typing import Any

import numpy as np

from workers.engines.classifier import METRIC_FIELDS, TrainedClassifier
from workers.engines.torch import predict
from workers.engines.torch.model import ActivityNet
from workers.model.hyperparameters import Hyperparameters, IterationReport
from workers.model.windows import Chunks

__all__ = ["METRIC_FIELDS", "ActivityClassifier"]


class ActivityClassifier(TrainedClassifier):
    """A trained network plus everything needed to use it on new sessions."""

    def __init__(
        self,
        *,
        net: ActivityNet,
        classes: Sequence[Any],
        features: Sequence[str],
        target: str,
        session_id: str,
        params: Hyperparameters,
        num_sessions: int,
        num_examples: int,
        training_time: float,
        training_metrics: dict[str, Any],
        validation_metrics: dict[str, Any] | None = None,
        progress: Sequence[IterationReport] = (),
    ):
        super().__init__(
            classes=classes,
            features=features,
            target=target,
            session_id=session_id,
            params=params,
            num_sessions=num_sessions,
            num_examples=num_examples,
            training_time=training_time,
        )
        self.net = net.eval()
        self.training_metrics = training_metrics
        self.validation_metrics = validation_metrics
        self.progress = list(progress)

    @property
    def training_iterations(self) -> int:
        return len(self.progress)

    def step(self, window_rows: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One streamed window (pw, F) and state [h, c] (400,) → probabilities (C,), new state.

        Mirrors an app driving the exported Core ML model: start from zeros, pass each
        returned state to the next call. Unlike predict, the state is never reset.
        """
        from workers.engines.torch.stream import stream_step

        return stream_step(self.net, window_rows, state)

    def step_many(self, windows: np.ndarray, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`step` for B streams at once: windows (B, pw, F), states (B, 400) → (B, C), (B, 400)."""
        from workers.engines.torch.stream import stream_steps

        return stream_steps(self.net, windows, states)

    # Persistence ----------------------------------------------------------------------

    def save(self, path: str | PathLike[str]) -> None:
        """Write a self-contained checkpoint file (see checkpoint.py)."""
        from workers.engines.torch.checkpoint import save_checkpoint

        save_checkpoint(self, path)

    @classmethod
    def load(cls, path: str | PathLike[str]) -> ActivityClassifier:
        from workers.engines.torch.checkpoint import load_checkpoint

        return load_checkpoint(path)

    # Probabilities ----------------------------------------------------------------------

    def _window_probabilities(self, chunks: Chunks) -> np.ndarray:
        return predict.window_probabilities(self.net, chunks)
