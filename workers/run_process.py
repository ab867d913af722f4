"""What a worker needs to start and read a run's child process, and nothing heavier: the
child's entry point, the files it leaves, how it ends, its thread count.

The worker process imports only this of the run's machinery. NumPy, Arrow, torch, the engines
and coremltools live in its fork server (PRELOADED_MODULES in worker.py), which every run's
child is forked from: the worker itself stays a small process that claims runs and watches.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal

from core.settings import Settings

RESULT_FILE, ERROR_FILE = "result.json", "error.json"
EXIT_CANCELED = 3


def execute_run(run_id: str, settings_json: str) -> None:
    """Entry point of the child process (workers.execute, imported by the fork server)."""
    from workers.execute import execute

    execute(run_id, settings_json)


def die_with_parent(signum: int = signal.SIGKILL) -> None:
    """If the parent dies (even by SIGKILL), the kernel sends this process `signum` (Linux)."""
    # Elsewhere a run's should_stop notices that its worker is gone instead.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signum)  # PR_SET_PDEATHSIG


def training_threads(
    settings: Settings, *, shares_host_with_api: bool, cpu_count: int | None = None
) -> int:
    """CPU threads for one training child.

    torch's default, a thread per core, spins whenever anything else wants a core: on 2 cores
    a 400-session run took 2.25 s alone but 8-9 s while the API took uploads, and up to 77 s
    beside other processes; one thread took 3.4-3.9 s alone and 4.7-5.2 s under uploads
    (issue #20; `bench_contention` measures both policies). So one thread when the API shares
    the host (`motionlab serve`) or the host has at most 2 cores; otherwise the cores shared
    among the workers. MOTIONLAB_TRAIN_THREADS overrides.
    """
    if settings.train_threads:
        return settings.train_threads
    cores = cpu_count or os.cpu_count() or 1
    if shares_host_with_api or cores <= 2:
        return 1
    return max(1, cores // max(settings.workers, 1))
