"""Model quality of each recipe (issue 15; run with `make bench`).

BasicMotions, train split → test split (whole sessions held out), prediction_window 10, seeds
0-4: the turicreate recipe at 20 iterations (the issue's baseline) and the motionlab recipe
with its defaults. Prints mean ± sd test accuracy and mean training time (the whole `train`
call) of each, and the time ratio. Targets: motionlab ≥ 0.97 mean, sd ≤ 0.02, ≤ 4× the time.
"""

from __future__ import annotations

import statistics
import time

import pyarrow.csv as pcsv
import torch

from core.recipes import MOTIONLAB, TURICREATE
from tests.support.basicmotions import split
from tests.support.paths import BASICMOTIONS_CSV
from workers.engines.torch import Hyperparameters, train

SEEDS = range(5)
WINDOW = 10
SETTINGS = {TURICREATE: {"max_iterations": 20}, MOTIONLAB: {}}


def bench_quality() -> None:
    # One thread: these are small workloads, and on a shared machine a second OpenMP thread
    # waiting on the first made each run several times slower (figures comparable across runs).
    torch.set_num_threads(1)
    table = pcsv.read_csv(BASICMOTIONS_CSV)
    train_data, test_data = split(table, "train"), split(table, "test")
    print()
    print(
        f"BasicMotions train → test, window {WINDOW}, seeds {list(SEEDS)}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    times = {}
    for recipe, extra in SETTINGS.items():
        accuracies, seconds = [], []
        for seed in SEEDS:
            params = Hyperparameters(
                prediction_window=WINDOW, random_seed=seed, recipe=recipe, **extra
            )
            started = time.perf_counter()
            model = train(train_data, params, validation=None, log=None)
            seconds.append(time.perf_counter() - started)
            accuracies.append(model.evaluate(test_data)["accuracy"])
        times[recipe] = statistics.mean(seconds)
        print(
            f"{recipe:>10} ({model.max_iterations} iterations, batch {model.batch_size}): "
            f"test accuracy {statistics.mean(accuracies):.3f} ± {statistics.stdev(accuracies):.3f} "
            f"[{', '.join(f'{a:.3f}' for a in accuracies)}], "
            f"training {times[recipe]:.2f} s"
        )
    print(f"training time motionlab / turicreate: {times[MOTIONLAB] / times[TURICREATE]:.1f}x")
