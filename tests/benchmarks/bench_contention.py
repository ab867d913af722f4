"""Training while the API is busy: the thread policy measured (run with `make bench`).

The 400-session torch run of bench_train (1,000 rows × 6 features each, prediction_window 20,
5 iterations) trains in a child process, as a worker's run does: alone, then while 8 phones
upload sessions to a real `motionlab serve` on the same machine; once with torch's default
threads (the old policy: one per core) and once with the new policy's count for a worker
beside the API (workers.run_process.training_threads). Target: under load ≤ 1.5× the idle time.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import tempfile
import time
from pathlib import Path

from core.settings import Settings
from tests.support.phone_fleet import PhoneFleet
from tests.support.processes import cpu_seconds
from tests.support.servers import free_port, start_serve_process
from tests.support.synthetic import synthetic_sessions
from workers.run_process import training_threads

WINDOW, ITERATIONS, SEED = 20, 5, 7
UPLOADERS = 8


def _train(threads: int | None, out: multiprocessing.Queue) -> None:
    import torch

    from workers.engines.torch import Hyperparameters, train

    if threads is not None:
        torch.set_num_threads(threads)
    data = synthetic_sessions()
    params = Hyperparameters(prediction_window=WINDOW, max_iterations=ITERATIONS, random_seed=SEED)
    started = time.perf_counter()
    train(data, params, validation=None, log=None)
    out.put((time.perf_counter() - started, torch.get_num_threads()))


def timed_training(threads: int | None) -> tuple[float, int]:
    """(seconds, threads used) of one training in a fresh child process."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    child = context.Process(target=_train, args=(threads, out))
    child.start()
    result = out.get(timeout=900)
    child.join()
    return result


def bench_contention() -> None:
    new_threads = training_threads(Settings(), shares_host_with_api=True)
    policies = {"old (torch default)": None, f"new ({new_threads} thread)": new_threads}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start_serve_process(Path(tmp) / "home", port, workers="0")
        try:
            for name, threads in policies.items():
                idle_s, used = timed_training(threads)
                with PhoneFleet(port, UPLOADERS, prefix=f"load-{used}") as fleet:
                    time.sleep(1.0)  # the fleet at full speed first
                    api_cpu_s = cpu_seconds(server.pid)
                    loaded_s, _ = timed_training(threads)
                    api_cores = (cpu_seconds(server.pid) - api_cpu_s) / loaded_s
                uploads = fleet.result().per_s
                rows.append((name, used, idle_s, loaded_s, uploads, api_cores))
        finally:
            server.send_signal(signal.SIGINT)
            server.wait()
    print(
        f"\ncontention: 400 sessions x 1,000 rows, window {WINDOW}, {ITERATIONS} iterations, "
        f"{os.cpu_count()} cores; load = {UPLOADERS} phones uploading 184 KB sessions"
    )
    for name, used, idle_s, loaded_s, uploads, api_cores in rows:
        print(
            f"  {name:<22} {used} threads: idle {idle_s:6.2f} s   under load {loaded_s:6.2f} s "
            f"({loaded_s / idle_s:4.1f}x, target <= 1.5x)   uploads meanwhile {uploads:5.0f}/s, "
            f"the API using {api_cores:.2f} of {os.cpu_count()} cores"
        )
