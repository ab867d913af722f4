"""Heavy libraries the API imports on first use (coremltools, onnx), one thread at a time.

Two threads that import coremltools at once see each other's half-initialised modules (its
packages import one another): the first ONNX and ML Program downloads after a start, arriving
together, answered 500 (`ImportError: cannot import name … from partially initialized module`,
or a `_DeadlockError`). Python's import locks are per module and break such cycles by handing
out the partial module, so every lazy import of those libraries goes through this one lock.
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType

_IMPORTING = threading.RLock()  # reentrant: an import may import lazily in its turn


def import_lazily(name: str) -> ModuleType:
    """The module `name`, imported by one thread at a time (a dictionary look-up once done)."""
    with _IMPORTING:
        return importlib.import_module(name)
