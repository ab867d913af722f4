"""Heavy libraries the API imports on first use (torch, coremltools, onnx), one thread at a
time, and without pausing the event loop.

Two threads that import coremltools at once see each other's half-initialised modules (its
packages import one another): the first ONNX and ML Program downloads after a start, arriving
together, answered 500 (`ImportError: cannot import name … from partially initialized module`,
or a `_DeadlockError`). Python's import locks are per module and break such cycles by handing
out the partial module, so every lazy import of those libraries goes through this one lock.

Importing torch (coremltools imports it too) loads its 430 MB C++ library, whose loading and
static initialisers hold Python's lock all along: the first live stream or prediction after a
start paused every request for 0.8–1.5 s on a loaded 2-core machine. Its libraries are loaded
first through the C library's `dlopen`, which ctypes calls with the lock released; torch's own
import then finds them loaded (worst pause 0.1–0.2 s).
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.util
import os
import sys
import threading
from pathlib import Path
from types import ModuleType

_IMPORTING = threading.RLock()  # reentrant: an import may import lazily in its turn
# In the order they depend on one another (Linux wheels; elsewhere none is found: no preload).
TORCH_LIBRARIES = ("libc10.so", "libtorch_cpu.so", "libtorch.so", "libtorch_python.so")
NEED_TORCH = ("torch", "coremltools", "workers.")  # what loads torch when imported


def import_lazily(name: str) -> ModuleType:
    """The module `name`, imported by one thread at a time (a dictionary look-up once done)."""
    with _IMPORTING:
        if name not in sys.modules and name.startswith(NEED_TORCH):
            load_torch_libraries()
        return importlib.import_module(name)


def load_torch_libraries() -> None:
    """torch's shared libraries, loaded with Python's lock released; nothing once torch is
    imported, or where they are not found."""
    if "torch" in sys.modules:
        return
    spec = importlib.util.find_spec("torch")  # finds the package without importing it
    if spec is None or spec.origin is None:
        return
    directory = Path(spec.origin).parent / "lib"
    dlopen = ctypes.CDLL(None).dlopen  # a foreign call: ctypes releases the lock around it
    dlopen.restype, dlopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_int]
    for name in TORCH_LIBRARIES:
        path = directory / name
        if not path.is_file() or not dlopen(bytes(path), os.RTLD_NOW | os.RTLD_LOCAL):
            return  # torch's import loads what is left, as it would have
