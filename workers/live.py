"""Live classification: rows arrive a few at a time, a prediction leaves per completed window.

This is the loop an iOS app runs around the exported Core ML model (spec §4.5): buffer
`prediction_window` rows, call the model with them and `stateIn`, keep its `stateOut` for the
next window. Like Turi Create's batch prediction (and POST …/predict), the state goes back
to zeros every WINDOWS_PER_CHUNK (20) windows, so a stream gives exactly the per-window
predictions of predict on the same rows. `finish()` predicts a last, partial window the way
predict does (zero padding) and starts a new stream.

The model is called through `step`, awaited: the server steps the windows of many streams
together (service/live/batching.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from workers.model.shape import STATE_SIZE, WINDOWS_PER_CHUNK

# (pw, F) window rows, (400,) state → (C,) probabilities, (400,) new state
Step = Callable[[np.ndarray, np.ndarray], Awaitable[tuple[np.ndarray, np.ndarray]]]


@runtime_checkable
class Streamer(Protocol):
    """A trained model that steps windows of independent streams (the torch classifier, or
    a .mlmodel's network stepped in NumPy: workers/exports/coreml/stream.py)."""

    classes: list[Any]
    features: list[str]

    @property
    def prediction_window(self) -> int: ...

    def step_many(self, windows: np.ndarray, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, pw, F) windows and (B, 400) states → (B, C) probabilities and new states."""
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
    """One stream's buffered rows and LSTM state. One caller at a time (a connection)."""

    def __init__(self, prediction_window: int, num_features: int, step: Step):
        self.prediction_window = prediction_window
        self.step = step
        self._buffer = np.zeros((prediction_window, num_features), np.float64)  # (pw, F)
        self._filled = 0  # rows of the current window received so far
        self._rows_done = 0  # rows of the windows already predicted
        self._window = 0  # index of the next window
        self._state = np.zeros(STATE_SIZE)  # (400,) [h, c]

    @property
    def num_rows(self) -> int:
        """Rows received since the stream started."""
        return self._rows_done + self._filled

    async def push(self, rows: np.ndarray) -> list[WindowPrediction]:
        """(n, F) rows in feature order → a prediction for each window they complete."""
        predictions = []
        start = 0
        while start < len(rows):
            take = min(self.prediction_window - self._filled, len(rows) - start)
            self._buffer[self._filled : self._filled + take] = rows[start : start + take]
            self._filled += take
            start += take
            if self._filled == self.prediction_window:
                predictions.append(await self._predict())
        return predictions

    async def finish(self) -> StreamEnd:
        """The last, partial window (zero-padded, as predict pads it), then a fresh stream."""
        last = None
        if self._filled:
            self._buffer[self._filled :] = 0.0
            last = await self._predict()
        end = StreamEnd(last, num_rows=self._rows_done, num_windows=self._window)
        self._filled = self._rows_done = self._window = 0
        self._state = np.zeros(STATE_SIZE)
        return end

    async def _predict(self) -> WindowPrediction:
        if self._window % WINDOWS_PER_CHUNK == 0:
            self._state = np.zeros(STATE_SIZE)  # a new chunk: Turi Create's zero state
        probabilities, self._state = await self.step(self._buffer.copy(), self._state)
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
