"""The windows that live streams of one model wait on, stepped together.

Each window costs one call of the network; the LSTM's cost per call barely grows with the
batch, so 50 streams' windows stepped at once cost little more than one. While a batch runs
(in a worker thread, the event loop free to read frames), the next one gathers. A stream
waits for its own window before sending the next, so each stream's order is kept.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

import numpy as np
from fastapi.concurrency import run_in_threadpool

from service.predictions.loading import INFERENCE_SLOTS, MODEL_CACHE_SIZE
from workers.live import Streamer

Waiting = tuple[np.ndarray, np.ndarray, "asyncio.Future[tuple[np.ndarray, np.ndarray]]"]


class WindowBatcher:
    """Steps windows of one model for the streams of one event loop."""

    def __init__(self, model: Streamer):
        self.model = model
        self._waiting: list[Waiting] = []
        self._drain: asyncio.Task[None] | None = None
        self.batches = 0  # how many network calls (observability, tests)

    async def step(self, window_rows: np.ndarray, state: np.ndarray):
        """(pw, F) rows and (400,) state → (C,) probabilities and the new state."""
        future: asyncio.Future[tuple[np.ndarray, np.ndarray]] = (
            asyncio.get_running_loop().create_future()
        )
        self._waiting.append((window_rows, state, future))
        if self._drain is None:
            self._drain = asyncio.create_task(self._step_waiting())
        return await future

    async def _step_waiting(self) -> None:
        try:
            while self._waiting:
                await asyncio.sleep(0)  # the streams that are ready now add their windows
                batch, self._waiting = self._waiting, []
                windows = np.stack([rows for rows, _, _ in batch])  # (B, pw, F)
                states = np.stack([state for _, state, _ in batch])  # (B, 400)
                try:
                    probabilities, new_states = await run_in_threadpool(
                        self._step_many, windows, states
                    )
                except Exception as error:  # each waiting stream fails with it
                    for *_, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                self.batches += 1
                for index, (*_, future) in enumerate(batch):
                    if not future.done():  # not a stream that has gone meanwhile
                        future.set_result((probabilities[index], new_states[index]))
        finally:
            self._drain = None

    def _step_many(self, windows: np.ndarray, states: np.ndarray):
        with INFERENCE_SLOTS:
            return self.model.step_many(windows, states)


def batcher_for(state: Any, model: Streamer) -> WindowBatcher:
    """The batcher of `model` in an app (`state`: app.state; one app serves on one loop)."""
    batchers: OrderedDict[int, WindowBatcher] | None = getattr(state, "live_batchers", None)
    if batchers is None:
        batchers = state.live_batchers = OrderedDict()
    batcher = batchers.get(id(model))  # the batcher holds the model: the id stays its own
    if batcher is None:
        batcher = batchers[id(model)] = WindowBatcher(model)
        while len(batchers) > MODEL_CACHE_SIZE:  # its streams keep the batcher they have
            batchers.popitem(last=False)
    batchers.move_to_end(id(model))
    return batcher
