"""Torch engine throughput on the issue's workload (run with `make bench`).

400 sessions × 1,000 rows × 6 features, prediction_window 20, 5 iterations. Prints training
rows·iterations per second (the whole `train` call: data prep, epochs, final metrics),
prediction rows per second (per-row probabilities, chunking included) and peak memory.
Turi Create 6.4.1 on a 2-core machine: ~90,000 rows·it/s training, ~180,000 rows/s prediction.
"""

from __future__ import annotations

import resource
import statistics
import time

import torch

from core.settings import Settings
from tests.support.synthetic import NUM_CLASSES, NUM_SESSIONS, synthetic_sessions
from workers.engines.torch import Hyperparameters, train
from workers.run_process import training_threads

PREDICTION_WINDOW = 20
MAX_ITERATIONS = 5
REPEATS = 3
TURI_CREATE_TRAIN_ROWS_ITERATIONS_PER_S = 90_000
TURI_CREATE_PREDICT_ROWS_PER_S = 180_000


def rss_mib() -> float:
    """Current resident set size (Linux)."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def bench_train() -> None:
    rss_before = rss_mib()  # torch and NumPy already imported
    data = synthetic_sessions()
    # The thread count a worker beside the API trains with (workers.run_process.training_threads).
    torch.set_num_threads(training_threads(Settings(), shares_host_with_api=True))
    params = Hyperparameters(
        recipe="turicreate",
        prediction_window=PREDICTION_WINDOW,
        max_iterations=MAX_ITERATIONS,
        random_seed=0,
    )
    # Several runs: the machine may be shared, and the first run also pays one-time warm-up.
    train_rates, predict_rates = [], []
    for _ in range(REPEATS):
        started = time.perf_counter()
        model = train(data, params, validation=None, log=None)
        train_rates.append(data.num_rows * MAX_ITERATIONS / (time.perf_counter() - started))
    for _ in range(REPEATS):
        started = time.perf_counter()
        probabilities = model.predict(data, "probability_vector")
        predict_rates.append(data.num_rows / (time.perf_counter() - started))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB

    print()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads (the worker policy), cpu; "
        f"{data.num_rows:,} rows, {NUM_SESSIONS} sessions, {MAX_ITERATIONS} iterations"
    )
    report("training", "rows·it/s", train_rates, TURI_CREATE_TRAIN_ROWS_ITERATIONS_PER_S)
    report("prediction", "rows/s", predict_rates, TURI_CREATE_PREDICT_ROWS_PER_S)
    print(f"final training accuracy {model.training_accuracy:.3f}")
    print(f"peak memory: max RSS {peak_mib:,.0f} MiB ({rss_before:,.0f} MiB before the workload)")
    assert probabilities.shape == (data.num_rows, NUM_CLASSES)


def report(name: str, unit: str, rates: list[float], turi_create_rate: float) -> None:
    runs = ", ".join(f"{rate:,.0f}" for rate in rates)
    median = statistics.median(rates)
    print(
        f"{name}: median {median:,.0f} {unit} ({median / turi_create_rate:.1f}x Turi Create); "
        f"runs (first is cold): {runs}"
    )
