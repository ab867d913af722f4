"""Trained models for serving: one loading point per engine, behind a small LRU cache.

A succeeded run never changes, so a loaded model stays valid for as long as it is cached.
The key holds the runs directory as well as the run id: several apps (tests) may share one
process.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Protocol

from core.models import Run
from core.settings import Settings
from service.errors import Conflict, NotFound
from service.runs.service import require_succeeded

MODEL_CACHE_SIZE = 8  # a checkpoint is ~1 MB of weights; 8 keeps a handful of models warm
# Inference running at once. More than one per core only adds contention (GIL, torch's own
# threads): measured on 2 cores, 8 concurrent single-window calls did ~35% fewer per second
# than the same calls 2 at a time.
INFERENCE_SLOTS = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
SERVING_TORCH_THREADS = 1
log = logging.getLogger("motionlab.predictions")


class Predictor(Protocol):
    """What serving needs from a trained model (ActivityClassifier has it all)."""

    classes: list[Any]
    features: list[str]
    target: str

    def predict(self, data, output_type: str, output_frequency: str) -> Any: ...

    def predict_topk(self, data, output_type: str, k: int, output_frequency: str) -> Any: ...

    def evaluate(self, data) -> dict[str, Any]: ...


class ModelCache:
    """Thread-safe LRU; concurrent first requests for one key load it once."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._loading: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self.loads = 0  # how many times a loader ran (observability, tests)

    def get(self, key: Hashable, load: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._items:  # another thread loaded it while we waited
                    return self._items[key]
            try:
                value = load()
            finally:
                with self._lock:
                    self._loading.pop(key, None)
            with self._lock:
                self.loads += 1
                self._items[key] = value
                while len(self._items) > self.capacity:
                    self._items.popitem(last=False)
            return value

    def peek(self, key: Hashable) -> Any | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items


@dataclass(frozen=True)
class Loaded:
    engine: str
    model: Predictor

    @property
    def is_fast(self) -> bool:
        """Cheap enough (about a millisecond for a few windows) to run on the event loop."""
        return self.engine in FAST_ENGINES


MODELS = ModelCache(MODEL_CACHE_SIZE)


def load_predictor(settings: Settings, run: Run) -> Predictor:
    """The one place a run's trained model is loaded for serving: 409 unless it can be."""
    require_succeeded(run)
    loader = _LOADERS.get(run.engine)
    if loader is None:
        raise Conflict(
            f"run {run.id} was trained with the {run.engine!r} engine; predict and evaluate "
            f"serve runs of the {', '.join(map(repr, _LOADERS))} engine(s) so far. Its Core ML "
            f"model is at GET /v1/runs/{run.id}/model.mlmodel"
        )
    run_dir = settings.runs_dir / run.id
    return MODELS.get(_key(settings, run.id), lambda: Loaded(run.engine, loader(run_dir))).model


def cached_predictor(settings: Settings, run_id: str) -> Loaded | None:
    """The model of `run_id` if it is loaded. Only succeeded runs are cached, and a succeeded
    run never changes, so a hit needs no database read."""
    return MODELS.peek(_key(settings, run_id))


def _key(settings: Settings, run_id: str) -> tuple[str, str]:
    return (str(settings.runs_dir), run_id)


def _load_torch(run_dir) -> Predictor:
    import torch

    from workers.engines.torch_engine import CHECKPOINT, load_model

    # Requests run side by side (INFERENCE_SLOTS), each on one core. torch's own intra-op
    # threads would wait on each other at every op while the cores are busy: on 2 cores a
    # single-window prediction took 0.6 to 8 ms with 2 threads, a steady 0.65 ms with 1.
    # 100,000 rows still take well under a second on one thread. (Process-wide: this is
    # the API process; training runs in worker processes.)
    torch.set_num_threads(SERVING_TORCH_THREADS)
    if not (run_dir / CHECKPOINT).exists():
        raise NotFound(f"run {run_dir.name} has no checkpoint file {CHECKPOINT}")
    log.info("loading model run_id=%s", run_dir.name)
    return load_model(run_dir)


def _load_turicreate(run_dir) -> Predictor:
    from workers.engines.turicreate_engine import SUMMARY, load_model

    if not (run_dir / SUMMARY).exists():
        raise NotFound(f"run {run_dir.name} has no Turi Create model summary {SUMMARY}")
    return load_model(run_dir)


# Engines whose models predict in-process in about a millisecond (Turi Create's go through a
# Python 3.8 child process: seconds per call).
FAST_ENGINES = frozenset({"torch"})
# engine name → loader(run_dir)
_LOADERS: dict[str, Callable[[Any], Predictor]] = {
    "torch": _load_torch,
    "turicreate": _load_turicreate,
}
