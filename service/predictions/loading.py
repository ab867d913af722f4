"""Trained models for serving, loaded by their engine (Engine.load_model), behind a small LRU.

A succeeded run never changes, so a loaded model stays valid for as long as it is cached.
The key holds the runs directory as well as the run id: several apps (tests) may share one
process.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.models import Run
from core.params import RunParams
from core.settings import Settings
from service.lazy_imports import import_lazily
from service.runs.artifacts import coreml_file, model_files_found, run_dir, run_engine
from service.runs.service import require_succeeded
from workers.engines.base import Engine, Predictor

if TYPE_CHECKING:
    from workers.exports.coreml.stream import NetworkStreamer

MODEL_CACHE_SIZE = 8  # a checkpoint is ~1 MB of weights; 8 keeps a handful of models warm
# Inference running at once. More than one per core only adds contention (GIL, torch's own
# threads): measured on 2 cores, 8 concurrent single-window calls did ~35% fewer per second
# than the same calls 2 at a time.
INFERENCE_SLOTS = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
SERVING_TORCH_THREADS = 1
log = logging.getLogger("motionlab.predictions")


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
    model: Predictor
    serves_inline: bool  # cheap enough to run on the event loop (Engine.serves_inline)


MODELS = ModelCache(MODEL_CACHE_SIZE)


def load_predictor(settings: Settings, run: Run) -> Predictor:
    """The one place a run's trained model is loaded for serving: 409 unless it can be."""
    require_succeeded(run)
    engine = run_engine(run)
    directory = run_dir(settings, run)
    return MODELS.get(_key(settings, run.id), lambda: _load(engine, directory)).model


def load_mlmodel_streamer(settings: Settings, run: Run) -> NetworkStreamer:
    """The run's exported .mlmodel, stepped window by window in NumPy: live classification of
    a model whose engine cannot step windows itself (Turi Create's predicts in its own
    process, seconds a call), fed what predictions take: the run's features in the units it
    trained in (the file's own inputs may be renamed and converted). Cached beside the engines'
    models."""
    require_succeeded(run)
    path, params = coreml_file(settings, run), run.run_params
    return MODELS.get(
        (*_key(settings, run.id), "mlmodel"), lambda: _load_mlmodel_streamer(path, params)
    )


def cached_predictor(settings: Settings, run_id: str) -> Loaded | None:
    """The model of `run_id` if it is loaded. Only succeeded runs are cached, and a succeeded
    run never changes, so a hit needs no database read."""
    return MODELS.peek(_key(settings, run_id))


def _key(settings: Settings, run_id: str) -> tuple[str, str]:
    return (str(settings.runs_dir), run_id)


def _load(engine: Engine, run_dir: Path) -> Loaded:
    log.info("loading model run_id=%s engine=%s", run_dir.name, engine.name)
    with model_files_found():
        loaded = Loaded(engine.load_model(run_dir), engine.serves_inline)
    _serve_on_one_thread()
    return loaded


def _load_mlmodel_streamer(path: Path, params: RunParams) -> NetworkStreamer:
    inputs = import_lazily("workers.exports.coreml.inputs")  # coremltools: not at API start
    network = import_lazily("workers.exports.coreml.network")
    stream = import_lazily("workers.exports.coreml.stream")
    return stream.NetworkStreamer(inputs.training_network(network.read_network(path), params))


def _serve_on_one_thread() -> None:
    torch = sys.modules.get("torch")
    if torch is None:  # this process serves no torch model (yet): nothing to set
        return
    # Requests run side by side (INFERENCE_SLOTS), each on one core. torch's own intra-op
    # threads would wait on each other at every op while the cores are busy: on 2 cores a
    # single-window prediction took 0.6 to 8 ms with 2 threads, a steady 0.65 ms with 1.
    # 100,000 rows still take well under a second on one thread. (Process-wide: this is
    # the API process; training runs in worker processes.)
    torch.set_num_threads(SERVING_TORCH_THREADS)
