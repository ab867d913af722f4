"""A trained activity classifier of any engine: Turi Create's model fields and outputs.

An engine's model class gives its network's probabilities of every window of a chunk grid
(`_window_probabilities`) and its metrics; this class turns them into predict, classify,
predict_topk and evaluate, identically for every engine.

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
from typing import Any

import numpy as np

from workers.metrics import classification_metrics
from workers.model.hyperparameters import Hyperparameters
from workers.model.windows import Chunks, make_chunks, per_row, real_windows, window_table
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
OUTPUT_FREQUENCIES = ("per_row", "per_window")


class TrainedClassifier:
    """Everything needed to use a trained model on new sessions, whatever trained it.

    Subclasses implement `_window_probabilities` and set `training_metrics`,
    `validation_metrics` (None without a validation part) and `training_iterations`.
    """

    # training_metrics, validation_metrics and training_iterations are the subclasses' to
    # define, as attributes or (computed lazily) properties; __getattr__ types them for mypy.

    def __init__(
        self,
        *,
        classes: Sequence[Any],
        features: Sequence[str],
        target: str,
        session_id: str,
        params: Hyperparameters,
        num_sessions: int | None,
        num_examples: int | None,
        training_time: float | None,
    ):
        self.classes = list(classes)  # sorted; column c of every probability vector
        self.features = list(features)
        self.target = target
        self.session_id = session_id  # the session id column's name
        self.params = params
        self.num_sessions = num_sessions
        self.num_examples = num_examples
        self.training_time = training_time

    # Turi Create model fields (spec §5.2) ---------------------------------------------

    @property
    def prediction_window(self) -> int:
        return self.params.prediction_window

    @property
    def batch_size(self) -> int:
        return self.params.batch_size

    @property
    def max_iterations(self) -> int:
        epochs = self.params.max_iterations
        assert epochs is not None, "training sets the epochs a step budget left open"
        return epochs

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
            if metric != name and metric in METRIC_FIELDS:
                metrics = getattr(self, f"{prefix}metrics", None)
                if metrics is not None:
                    return metrics[metric]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(classes={self.classes}, features={self.features}, "
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
        _check_choice("output_frequency", output_frequency, OUTPUT_FREQUENCIES)
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
        _check_choice("output_frequency", output_frequency, OUTPUT_FREQUENCIES)
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
        _check_choice("output_frequency", output_frequency, OUTPUT_FREQUENCIES)
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

    # For subclasses -------------------------------------------------------------------

    def _window_probabilities(self, chunks: Chunks) -> np.ndarray:
        """(K, 20, C) float class probabilities of every window slot of `chunks` (padding
        included; the LSTM state starts from zeros in each chunk), columns in `classes` order."""
        raise NotImplementedError(f"{type(self).__name__} does not compute probabilities")

    def _probabilities(
        self, data: MotionData, output_frequency: str
    ) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
        """(N, C) per-row probabilities and no table, or (W, C) per window and the table
        (see windows.window_table), columns in `classes` order."""
        chunks = make_chunks(data.with_features(self.features), self.prediction_window)
        probabilities = self._window_probabilities(chunks)
        if output_frequency == "per_row":
            return per_row(probabilities, chunks), None
        return real_windows(probabilities, chunks), window_table(data, chunks)

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


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}; got {value!r}")
