"""Both engines on the same data, side by side (run with `make bench`).

400 sessions × 1,000 rows × 6 features (320 train / 80 test sessions), prediction_window 20,
5 iterations, the same seed. Prints training time, prediction throughput (per-row
probabilities on the test part) and test accuracy of Turi Create 6.4.1 and the torch engine,
with the ratio. Turi Create's times include its Python 3.8 process and TensorFlow start-up,
which is what a run costs in this service.
"""

from __future__ import annotations

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
from workers.execute import training_threads

SEED, WINDOW, ITERATIONS = 7, 20, 5
TRAIN_SESSIONS = 320


def split(data):
    train_rows = np.arange(data.num_rows) < TRAIN_SESSIONS * ROWS_PER_SESSION
    return data.take_rows(train_rows), data.take_rows(~train_rows)


def accuracy(probabilities: np.ndarray, classes, targets) -> float:
    predicted = np.asarray(classes)[probabilities.argmax(axis=1)]
    return float(np.mean(predicted.astype(str) == np.asarray(targets).astype(str)))


def bench_engines() -> None:
    found = availability()
    if not found.available:
        pytest.skip(f"Turi Create unavailable: {found.reason}")
    train_part, test_part = split(synthetic_sessions())
    rows = {"train": train_part.num_rows, "test": test_part.num_rows}
    # The thread count a worker beside the API trains with (workers.execute.training_threads).
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
        started = time.perf_counter()
        result = train_parts(
            parts={"train": train_part},
            params=TrainParams(
                features=train_part.feature_names,
                prediction_window=WINDOW,
                max_iterations=ITERATIONS,
                random_seed=SEED,
                validation="none",
            ),
            out_dir=Path(tmp),
        )
        tc_train_s = time.perf_counter() - started
        tc_internal_s = result.summary.get("training_time")
        started = time.perf_counter()
        predicted = predict_data(model_dir=result.model_dir, data=test_part)
        tc_predict_s = time.perf_counter() - started
        # Requests of one session each, as a service gets them: the runner is already up.
        one_session = test_part.take_rows(np.arange(test_part.num_rows) < ROWS_PER_SESSION)
        request_s = []
        for _ in range(5):
            started = time.perf_counter()
            predict_data(model_dir=result.model_dir, data=one_session)
            request_s.append(time.perf_counter() - started)
    tc_accuracy = accuracy(predicted.probabilities, predicted.classes, test_part.targets)

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
    print(f"  {'  TC training_time field (s)':28}{tc_internal_s:12.2f}")
    tc_rate, torch_rate = rows["test"] / tc_predict_s, rows["test"] / torch_predict_s
    print(
        f"  {'prediction (rows/s)':28}{tc_rate:12,.0f}{torch_rate:12,.0f}"
        f"{torch_rate / tc_rate:8.1f}x"
    )
    print(f"  {'test accuracy':28}{tc_accuracy:12.3f}{torch_accuracy:12.3f}")
    print(
        f"  Turi Create, one session ({ROWS_PER_SESSION:,} rows) per request from its long-lived "
        f"runner: median {np.median(request_s):.2f} s (each used to start Python 3.8: ~3.4 s)"
    )
