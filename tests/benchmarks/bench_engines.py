"""Both engines on the same data, side by side (run with `make bench`).

400 sessions × 1,000 rows × 6 features (320 train / 80 test sessions), prediction_window 20,
5 iterations, the same seed. Prints training time, prediction throughput (per-row
probabilities on the test part) and test accuracy of Turi Create 6.4.1 and the torch engine,
with the ratio, and how much of a Turi Create run's time is spent outside its training loop
(issue #31: ≤ 20 %, from 55 %). Turi Create's times include its Python 3.8 process and
TensorFlow start-up, which is what a run costs in this service; coremltools is imported first,
as a worker's fork server has it.

The loop is Turi Create's own clock: from the start its first progress row counts from (its
`Elapsed Time`, which includes its pre-processing) to the arrival of its last row. Outside it:
the runner's start and the data's exchange before; after, Turi Create scoring its training part
inside create() (it cannot be told not to), saving and exporting, and this side's metrics.
"""

from __future__ import annotations

import importlib
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from core.settings import Settings
from tests.support.synthetic import ROWS_PER_SESSION, synthetic_sessions
from workers.engines.torch import Hyperparameters, train
from workers.engines.turicreate import TrainParams, availability, predict_data, train_parts
from workers.engines.turicreate.model import TuriCreateModel
from workers.run_process import training_threads
from workers.worker import PRELOADED_MODULES

SEED, WINDOW, ITERATIONS = 7, 20, 5
TRAIN_SESSIONS = 320
BASELINE_OUTSIDE = 0.55  # issue #31, before the binary exchange (same definition)
BASELINE_REQUEST_S = 0.864  # issue #31: one window through Turi Create's predict (runner)


def split(data):
    train_rows = np.arange(data.num_rows) < TRAIN_SESSIONS * ROWS_PER_SESSION
    return data.take_rows(train_rows), data.take_rows(~train_rows)


def accuracy(probabilities: np.ndarray, classes, targets) -> float:
    predicted = np.asarray(classes)[probabilities.argmax(axis=1)]
    return float(np.mean(predicted.astype(str) == np.asarray(targets).astype(str)))


def train_turicreate(train_part, out_dir: Path) -> tuple[float, float, float]:
    """(wall s, s before the loop, s in the loop) of one Turi Create run through the engine."""
    arrivals: list[tuple[float, float]] = []  # (when, Turi Create's elapsed_s)
    started = time.perf_counter()
    train_parts(
        parts={"train": train_part},
        params=TrainParams(
            features=train_part.feature_names,
            prediction_window=WINDOW,
            max_iterations=ITERATIONS,
            random_seed=SEED,
            validation="none",
        ),
        out_dir=out_dir,
        on_iteration=lambda report: arrivals.append((time.perf_counter(), report["elapsed_s"])),
    )
    wall = time.perf_counter() - started
    loop_started = arrivals[0][0] - arrivals[0][1]
    return wall, loop_started - started, arrivals[-1][0] - loop_started


def bench_engines() -> None:
    found = availability()
    if not found.available:
        pytest.skip(f"Turi Create unavailable: {found.reason}")
    for module in PRELOADED_MODULES:  # what a run's process finds imported
        importlib.import_module(module)
    train_part, test_part = split(synthetic_sessions())
    rows = {"train": train_part.num_rows, "test": test_part.num_rows}
    # The thread count a worker beside the API trains with (workers.run_process.training_threads).
    threads = training_threads(Settings(), shares_host_with_api=True)
    torch.set_num_threads(threads)

    started = time.perf_counter()
    model = train(
        train_part,
        Hyperparameters(
            recipe="turicreate",
            prediction_window=WINDOW,
            max_iterations=ITERATIONS,
            random_seed=SEED,
        ),
        validation=None,
        log=None,
    )
    torch_train_s = time.perf_counter() - started
    started = time.perf_counter()
    torch_probabilities = model.predict(test_part, output_type="probability_vector")
    torch_predict_s = time.perf_counter() - started
    torch_accuracy = accuracy(np.stack(torch_probabilities), model.classes, test_part.targets)

    with tempfile.TemporaryDirectory() as tmp:
        tc_train_s, before_s, loop_s = train_turicreate(train_part, Path(tmp))
        served = TuriCreateModel(Path(tmp))
        started = time.perf_counter()
        probabilities = served.predict(test_part, output_type="probability_vector")
        tc_predict_s = time.perf_counter() - started
        started = time.perf_counter()
        own = predict_data(model_dir=served.model_dir, data=test_part, classes=served.classes)
        own_predict_s = time.perf_counter() - started
        window = test_part.take_rows(np.arange(test_part.num_rows) < WINDOW)
        request_s = []
        for _ in range(50):
            started = time.perf_counter()
            served.predict(window, output_type="probability_vector")
            request_s.append(time.perf_counter() - started)
    tc_accuracy = accuracy(probabilities, served.classes, test_part.targets)
    outside = (tc_train_s - loop_s) / tc_train_s

    print(
        f"\nengines: {rows['train']:,} training rows, {rows['test']:,} test rows, window {WINDOW}, "
        f"{ITERATIONS} iterations, seed {SEED}"
    )
    print(f"  torch on {threads} thread(s), the policy of a worker beside the API")
    print(f"  {'':28}{'turicreate':>12}{'torch':>12}{'ratio':>9}")
    print(
        f"  {'training time (s)':28}{tc_train_s:12.2f}{torch_train_s:12.2f}"
        f"{tc_train_s / torch_train_s:8.1f}x"
    )
    tc_rate, torch_rate = rows["test"] / tc_predict_s, rows["test"] / torch_predict_s
    print(
        f"  {'prediction (rows/s)':28}{tc_rate:12,.0f}{torch_rate:12,.0f}"
        f"{torch_rate / tc_rate:8.1f}x   (Turi Create's model from its exported .mlmodel)"
    )
    print(f"  {'test accuracy':28}{tc_accuracy:12.3f}{torch_accuracy:12.3f}")
    print(
        f"  Turi Create run outside its training loop: {outside:.0%} (target <= 20 %, baseline "
        f"{BASELINE_OUTSIDE:.0%}): {before_s:.1f} s before, {loop_s:.1f} s in the loop, "
        f"{tc_train_s - before_s - loop_s:.1f} s after"
    )
    print(
        f"  Turi Create's own predict of the test part (a runner, its start included): "
        f"{own_predict_s:.2f} s; the served model's largest difference from it "
        f"{np.abs(own.probabilities - probabilities).max():.1e}"
    )
    print(
        f"  one window through the served Turi Create model, in process: median "
        f"{np.median(request_s) * 1000:.2f} ms (baseline {BASELINE_REQUEST_S * 1000:.0f} ms over "
        "HTTP through Turi Create's runner; bench_predict measures it over HTTP)"
    )
