"""Live classification: rows arrive a few at a time, a prediction leaves per completed window.

This is the loop an iOS app runs around the exported Core ML model (spec §4.5): buffer
`prediction_window` rows, call the model with them and `stateIn`, keep its `stateOut` for the
next window. Like Turi Create's batch prediction (and POST …/predict), the state goes back
to zeros every WINDOWS_PER_CHUNK (20) windows, so a stream gives exactly the per-window
predictions of predict on the same rows. `finish()` predicts a last, partial window the way
predict does (zero padding) and starts a new stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from workers.engines.torch.model import STATE_SIZE, WINDOWS_PER_CHUNK


@runtime_checkable
class Streamer(Protocol):
    """A trained model that steps one window at a time (the torch ActivityClassifier)."""

    classes: list[Any]
    features: list[str]

    @property
    def prediction_window(self) -> int: ...

    def step(self, window_rows: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(pw, F) rows and (400,) state → (C,) probabilities and the new state."""
        ...


@dataclass(frozen=True)
class WindowPrediction:
    window: int  # 0-based index of the window in the stream
    first_row: int  # stream row where it starts
    num_rows: int  # real rows in it: prediction_window, fewer for a last partial window
    probabilities: np.ndarray  # (C,) in the model's class order


@dataclass(frozen=True)
class StreamEnd:
    last: WindowPrediction | None  # the partial window, if rows were left over
    num_rows: int  # rows the ended stream took
    num_windows: int  # windows it predicted


class LiveStream:
    """One stream's buffered rows and LSTM state. Not thread-safe: one caller at a time."""

    def __init__(self, model: Streamer):
        self.model = model
        self.prediction_window = model.prediction_window
        num_features = len(model.features)
        self._buffer = np.zeros((self.prediction_window, num_features), np.float64)  # (pw, F)
        self._filled = 0  # rows of the current window received so far
        self._rows_done = 0  # rows of the windows already predicted
        self._window = 0  # index of the next window
        self._state = np.zeros(STATE_SIZE)  # (400,) [h, c]

    @property
    def buffered_rows(self) -> int:
        """Rows received that no prediction covers yet (fewer than prediction_window)."""
        return self._filled

    @property
    def num_rows(self) -> int:
        """Rows received since the stream started."""
        return self._rows_done + self._filled

    def windows_completed_by(self, num_rows: int) -> int:
        """How many windows `push` of `num_rows` more rows will predict."""
        return (self._filled + num_rows) // self.prediction_window

    def push(self, rows: np.ndarray) -> list[WindowPrediction]:
        """(n, F) rows in feature order → a prediction for each window they complete."""
        predictions = []
        start = 0
        while start < len(rows):
            take = min(self.prediction_window - self._filled, len(rows) - start)
            self._buffer[self._filled : self._filled + take] = rows[start : start + take]
            self._filled += take
            start += take
            if self._filled == self.prediction_window:
                predictions.append(self._predict())
        return predictions

    def finish(self) -> StreamEnd:
        """The last, partial window (zero-padded, as predict pads it), then a fresh stream."""
        last = None
        if self._filled:
            self._buffer[self._filled :] = 0.0
            last = self._predict()
        end = StreamEnd(last, num_rows=self._rows_done, num_windows=self._window)
        self._reset()
        return end

    def _predict(self) -> WindowPrediction:
        if self._window % WINDOWS_PER_CHUNK == 0:
            self._state = np.zeros(STATE_SIZE)  # a new chunk: Turi Create's zero state
        probabilities, self._state = self.model.step(self._buffer, self._state)
        prediction = WindowPrediction(
            window=self._window,
            first_row=self._rows_done,
            num_rows=self._filled,
            probabilities=probabilities,
        )
        self._window += 1
        self._rows_done += self._filled
        self._filled = 0
        return prediction

    def _reset(self) -> None:
        self._filled = self._rows_done = self._window = 0
        self._state = np.zeros(STATE_SIZE)
