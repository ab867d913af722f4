"""Decoding that holds Python's GIL for as long as its input is large (JSON, CBOR), done in a
separate process, so that it cannot pause the event loop.

json.loads and cbor2.loads are C loops that never release the GIL: in a worker thread, a
15 MB JSON upload still paused every other request of the API for its whole decode (/healthz:
5.2 s on a loaded 2-core machine). Bodies of at least OFFLOAD_MIN_BYTES are parsed in a
decoder process instead (its result, NumPy arrays and Arrow tables, comes back as buffers);
smaller ones take milliseconds and stay in the thread. The decoder processes are spawned on
first use and hold their own memory (about 12 times the JSON limit each, at most).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from service.errors import ServiceUnavailable

OFFLOAD_MIN_BYTES = 256 * 1024
# Decoding is CPU-bound: half the cores, so the API and the workers keep the rest.
DECODER_PROCESSES = max(1, min(4, (os.cpu_count() or 2) // 2))
Result = TypeVar("Result")
_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def decoded_apart(size: int, function: Callable[..., Result], /, *args: Any) -> Result:
    """`function(*args)`, in a decoder process when the body is `size` >= OFFLOAD_MIN_BYTES
    bytes (else here); its ServiceError re-raised here whole. `function` must be a module's
    (the decoder process imports it by name)."""
    if size < OFFLOAD_MIN_BYTES:
        return function(*args)
    pool = _decoders()
    try:
        return pool.submit(function, *args).result()
    except BrokenProcessPool:  # killed (out of memory?): the next request gets a new one
        _discard(pool)
        raise ServiceUnavailable(
            "the process decoding this body ended before it finished (out of memory?); "
            "send the request again, or send the data as CSV"
        ) from None


def _decoders() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                DECODER_PROCESSES, mp_context=multiprocessing.get_context("spawn")
            )
        return _pool


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)
