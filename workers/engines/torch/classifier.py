"""The trained activity classifier: predict, classify, top-k, evaluate, stream, save / load.

Outputs are columnar: NumPy arrays for per_row, dicts of equal-length arrays for per_window
and top-k. Per-window results carry `session_id`, `window` (0-based window index within the
session), `prediction_id` (Turi Create's chunk index, kept for compatibility), `first_row`
(input row where the window starts) and `num_rows`.

One deliberate fix of Turi Create: `predict_topk(output_type="rank")` gives the real rank
0..k-1. Turi Create 6.4 puts the class index there instead (spec §3.2).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from os import PathLike
from typing import Any

import numpy as np

from workers.engines.torch import predict
from workers.engines.torch.model import ActivityNet
from workers.engines.torch.params import Hyperparameters, IterationReport
from workers.engines.torch.windows import make_chunks, window_table
from workers.metrics import classification_metrics
from workers.motion_data import Columns, MotionData, MotionDataError

# Metric fields Turi Create keeps as training_<m> / validation_<m> (spec §5.2, minus roc_curve).
METRIC_FIELDS = (
    "accuracy",
    "auc",
    "confusion_matrix",
    "f1_score",
    "log_loss",
    "precision",
    "recall",
    "report_by_class",
)
_OUTPUT_FREQUENCIES = ("per_row", "per_window")


class ActivityClassifier:
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
        self.net = net.eval()
        self.classes = list(classes)  # sorted; column c of every probability vector
        self.features = list(features)
        self.target = target
        self.session_id = session_id  # the session id column's name
        self.params = params
        self.num_sessions = num_sessions
        self.num_examples = num_examples
        self.training_time = training_time
        self.training_metrics = training_metrics
        self.validation_metrics = validation_metrics
        self.progress = list(progress)

    # Turi Create model fields (spec §5.2) ---------------------------------------------

    @property
    def prediction_window(self) -> int:
        return self.params.prediction_window

    @property
    def batch_size(self) -> int:
        return self.params.batch_size

    @property
    def max_iterations(self) -> int:
        return self.params.max_iterations

    @property
    def training_iterations(self) -> int:
        return len(self.progress)

    @property
    def random_seed(self) -> int | None:
        return self.params.random_seed

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def num_features(self) -> int:
        return len(self.features)

    def fields(self) -> list[str]:
        """Field names, like Turi Create's _list_fields(); each is readable as an attribute."""
        names = [
            "batch_size",
            "classes",
            "features",
            "max_iterations",
            "num_classes",
            "num_examples",
            "num_features",
            "num_sessions",
            "prediction_window",
            "random_seed",
            "session_id",
            "target",
            "training_iterations",
            "training_time",
        ]
        names += [f"training_{m}" for m in METRIC_FIELDS]
        if self.validation_metrics is not None:
            names += [f"validation_{m}" for m in METRIC_FIELDS]
        return sorted(names)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: training_<m> / validation_<m> metric fields.
        for prefix in ("training_", "validation_"):
            metric = name.removeprefix(prefix)
            metrics = self.__dict__.get(f"{prefix}metrics")
            if metric != name and metric in METRIC_FIELDS and metrics is not None:
                return metrics[metric]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        return (
            f"ActivityClassifier(classes={self.classes}, features={self.features}, "
            f"prediction_window={self.prediction_window}, num_sessions={self.num_sessions}, "
            f"num_examples={self.num_examples})"
        )

    # Prediction -----------------------------------------------------------------------

    def predict(
        self,
        data: MotionData | Columns,
        output_type: str = "class",
        output_frequency: str = "per_row",
    ) -> np.ndarray | dict[str, np.ndarray]:
        """Classes (N,) or probability vectors (N, C) per row, or a per-window table."""
        _check_choice("output_type", output_type, ("class", "probability_vector"))
        _check_choice("output_frequency", output_frequency, _OUTPUT_FREQUENCIES)
        probabilities, table = self._infer(data, output_frequency)
        if output_type == "class":
            result = self._class_array[probabilities.argmax(axis=1)]
        else:
            result = probabilities.astype(np.float64)
        if table is None:
            return result
        return {**table, output_type: result}

    def classify(
        self, data: MotionData | Columns, output_frequency: str = "per_row"
    ) -> dict[str, np.ndarray]:
        """The most likely class and its probability, per row or per window."""
        _check_choice("output_frequency", output_frequency, _OUTPUT_FREQUENCIES)
        probabilities, table = self._infer(data, output_frequency)
        best = probabilities.argmax(axis=1)
        result = {
            "class": self._class_array[best],
            "probability": probabilities[np.arange(len(best)), best].astype(np.float64),
        }
        return result if table is None else {**table, **result}

    def predict_topk(
        self,
        data: MotionData | Columns,
        output_type: str = "probability",
        k: int = 3,
        output_frequency: str = "per_row",
    ) -> dict[str, np.ndarray]:
        """The k most likely classes per row (with `row_id`) or per window, best first.

        `rank` is the position 0..k-1 in that order (Turi Create gives the class index).
        """
        if not isinstance(k, numbers.Integral) or isinstance(k, bool):
            raise TypeError(f"k must be an integer; got {k!r}")
        if k < 1:
            raise ValueError(f"k must be at least 1; got {k}")
        _check_choice("output_type", output_type, ("probability", "rank"))
        _check_choice("output_frequency", output_frequency, _OUTPUT_FREQUENCIES)
        k = min(int(k), self.num_classes)
        probabilities, table = self._infer(data, output_frequency)
        top = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]  # (M, k); ties → lower
        if output_type == "probability":
            value = np.take_along_axis(probabilities, top, axis=1).astype(np.float64).ravel()
        else:
            value = np.tile(np.arange(k), len(top))
        keys = {"row_id": np.arange(len(top))} if table is None else table
        return {
            **{name: np.repeat(column, k, axis=0) for name, column in keys.items()},
            "class": self._class_array[top.ravel()],
            output_type: value,
        }

    def evaluate(self, data: MotionData | Columns) -> dict[str, Any]:
        """Per-row metrics on labelled data (spec §3.4); see workers.metrics."""
        data = self._as_motion_data(data, with_target=True)
        if data.targets is None:
            raise MotionDataError(f"evaluate needs the target column {self.target!r}")
        probabilities = self._probabilities(data, "per_row")[0]
        return classification_metrics(data.targets, probabilities, self.classes)

    def step(self, window_rows: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One streamed window (pw, F) and state [h, c] (400,) → probabilities (C,), new state.

        Mirrors an app driving the exported Core ML model: start from zeros, pass each
        returned state to the next call. Unlike predict, the state is never reset.
        """
        from workers.engines.torch.stream import stream_step

        return stream_step(self.net, window_rows, state)

    # Persistence ----------------------------------------------------------------------

    def save(self, path: str | PathLike[str]) -> None:
        """Write a self-contained checkpoint file (see checkpoint.py)."""
        from workers.engines.torch.checkpoint import save_checkpoint

        save_checkpoint(self, path)

    @classmethod
    def load(cls, path: str | PathLike[str]) -> ActivityClassifier:
        from workers.engines.torch.checkpoint import load_checkpoint

        return load_checkpoint(path)

    # Internals ------------------------------------------------------------------------

    @property
    def _class_array(self) -> np.ndarray:
        return np.asarray(self.classes)

    def _as_motion_data(self, data: MotionData | Columns, *, with_target: bool) -> MotionData:
        if isinstance(data, MotionData):
            return data.with_features(self.features)
        return MotionData.from_columns(
            data,
            session_id=self.session_id,
            target=self.target if with_target else None,
            features=self.features,
        )

    def _infer(
        self, data: MotionData | Columns, output_frequency: str
    ) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
        return self._probabilities(self._as_motion_data(data, with_target=False), output_frequency)

    def _probabilities(
        self, data: MotionData, output_frequency: str
    ) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
        """(N, C) per-row probabilities and no table, or (W, C) per window and the table."""
        chunks = make_chunks(data.with_features(self.features), self.prediction_window)
        probabilities = predict.window_probabilities(self.net, chunks)
        if output_frequency == "per_row":
            return predict.per_row(probabilities, chunks), None
        return predict.real_windows(probabilities, chunks), window_table(data, chunks)


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}; got {value!r}")
