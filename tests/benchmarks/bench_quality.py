"""Model quality of each recipe (issues 15 and 28; run with `make bench`). Prints figures.

1. People never seen: leave-subjects-out cross-validation on the development file
   (../shared/data/wrist-exercises-dev.csv.gz beside the checkout; its README has the
   protocol): 4 folds of 2 subjects (s1-s2, s3-s4, s5-s6, s7-s8), each trained on the other
   6, prediction_window 50, seeds 0-2, no validation part. Per-row test accuracy as the
   service's metrics count it: mean ± sd over folds × seeds, each fold's mean (best and worst),
   mean training time (the whole `train` call) and the time ratio. The turicreate recipe runs
   20 iterations, the data README's baseline. Targets: motionlab ≥ 0.88 mean, ≤ 3× the time.
2. BasicMotions, train split → test split (whole sessions held out, no subjects),
   prediction_window 10, seeds 0-4, the same two recipes. Targets: motionlab ≥ 0.97 mean,
   ≤ 3× the time.
3. Scaling: the motionlab recipe on all 8 subjects, then on 10 copies of them (distinct
   session ids). Target: 10× the data takes at most 12× the time (linear within 20 %); its
   budget is in optimiser steps, so more data means fewer epochs, not more work.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import torch

from core.recipes import MOTIONLAB, TURICREATE
from tests.workers.engines.torch.test_torch_basicmotions import BASICMOTIONS_CSV, split
from workers.engines.torch import Hyperparameters, MotionData, train

REPO = Path(__file__).resolve().parents[2]
DEV_CSV = REPO.parent / "shared" / "data" / "wrist-exercises-dev.csv.gz"
DEV_FEATURES = ["ax", "ay", "az", "wx", "wy", "wz"]
DEV_FOLDS = [("s1", "s2"), ("s3", "s4"), ("s5", "s6"), ("s7", "s8")]
DEV_WINDOW = 50
DEV_SEEDS = range(3)
BASICMOTIONS_WINDOW = 10
BASICMOTIONS_SEEDS = range(5)
SCALE_COPIES = 10
SETTINGS = {TURICREATE: {"max_iterations": 20}, MOTIONLAB: {}}


@dataclass
class Scores:
    accuracies: dict[int, list[float]]  # fold (0 when there are none) → one per seed
    seconds: list[float]
    epochs: int

    @property
    def all(self) -> list[float]:
        return [a for fold in self.accuracies.values() for a in fold]

    def summary(self) -> str:
        runs = self.all
        return f"{statistics.mean(runs):.3f} ± {statistics.stdev(runs):.3f} (n={len(runs)})"


def bench_quality() -> None:
    # One thread: these are small workloads, and on a shared machine a second OpenMP thread
    # waiting on the first made each run several times slower (figures comparable across runs).
    torch.set_num_threads(1)
    print(f"\ntorch {torch.__version__}, {torch.get_num_threads()} thread")
    subjects = bench_subjects()
    basicmotions = bench_basicmotions()
    bench_scaling()
    print("\nsummary (motionlab vs turicreate):")
    for name, scores in (("subjects", subjects), ("BasicMotions", basicmotions)):
        ratio = statistics.mean(scores[MOTIONLAB].seconds) / statistics.mean(
            scores[TURICREATE].seconds
        )
        print(
            f"  {name}: motionlab {scores[MOTIONLAB].summary()}, "
            f"turicreate {scores[TURICREATE].summary()}, time {ratio:.1f}x"
        )


def bench_subjects() -> dict[str, Scores]:
    if not DEV_CSV.is_file():
        raise FileNotFoundError(
            f"{DEV_CSV} is missing: the development data lives in shared/data beside the checkout"
        )
    table = pcsv.read_csv(DEV_CSV)
    print(
        f"\nsubjects: {DEV_CSV.name}, {table.num_rows:,} rows, leave-2-subjects-out folds "
        f"{DEV_FOLDS}, window {DEV_WINDOW}, seeds {list(DEV_SEEDS)}"
    )
    results = {}
    for recipe, extra in SETTINGS.items():
        scores = Scores({}, [], 0)
        for fold, (train_data, test_data) in enumerate(subject_folds(table)):
            scores.accuracies[fold] = []
            for seed in DEV_SEEDS:
                accuracy, seconds, epochs = train_and_test(
                    train_data, test_data, recipe, DEV_WINDOW, seed, extra
                )
                scores.accuracies[fold].append(accuracy)
                scores.seconds.append(seconds)
                scores.epochs = epochs
        folds = {fold: statistics.mean(runs) for fold, runs in scores.accuracies.items()}
        best, worst = max(folds, key=folds.__getitem__), min(folds, key=folds.__getitem__)
        print(
            f"{recipe:>10} ({scores.epochs} iterations on the first fold's data): test accuracy "
            f"{scores.summary()}; folds [{', '.join(f'{a:.3f}' for a in folds.values())}], "
            f"best {folds[best]:.3f} ({'+'.join(DEV_FOLDS[best])}), "
            f"worst {folds[worst]:.3f} ({'+'.join(DEV_FOLDS[worst])}); "
            f"training {statistics.mean(scores.seconds):.2f} s"
        )
        results[recipe] = scores
    return results


def bench_basicmotions() -> dict[str, Scores]:
    table = pcsv.read_csv(BASICMOTIONS_CSV)
    train_data, test_data = split(table, "train"), split(table, "test")
    print(
        f"\nBasicMotions train → test, window {BASICMOTIONS_WINDOW}, "
        f"seeds {list(BASICMOTIONS_SEEDS)}"
    )
    results = {}
    for recipe, extra in SETTINGS.items():
        scores = Scores({0: []}, [], 0)
        for seed in BASICMOTIONS_SEEDS:
            accuracy, seconds, scores.epochs = train_and_test(
                train_data, test_data, recipe, BASICMOTIONS_WINDOW, seed, extra
            )
            scores.accuracies[0].append(accuracy)
            scores.seconds.append(seconds)
        print(
            f"{recipe:>10} ({scores.epochs} iterations): test accuracy {scores.summary()} "
            f"[{', '.join(f'{a:.3f}' for a in scores.all)}], "
            f"training {statistics.mean(scores.seconds):.2f} s"
        )
        results[recipe] = scores
    return results


def bench_scaling() -> None:
    data = dev_data(pcsv.read_csv(DEV_CSV))
    copies = MotionData(
        session_ids=np.char.add(
            np.repeat(np.arange(SCALE_COPIES).astype(str), data.num_rows),
            np.tile(data.session_ids.astype(str), SCALE_COPIES),
        ),
        features=np.tile(data.features, (SCALE_COPIES, 1)),
        feature_names=data.feature_names,
        targets=np.tile(data.targets, SCALE_COPIES),
    )
    seconds = {}
    for name, part in (("1x", data), (f"{SCALE_COPIES}x", copies)):
        params = Hyperparameters(prediction_window=DEV_WINDOW, random_seed=0)
        started = time.perf_counter()
        model = train(part, params, validation=None, log=None)
        seconds[name] = time.perf_counter() - started
        print(
            f"\nscaling, motionlab: {name} the data ({part.num_rows:,} rows): "
            f"{model.max_iterations} iterations, {seconds[name]:.1f} s"
        )
    ratio = seconds[f"{SCALE_COPIES}x"] / seconds["1x"]
    print(f"{SCALE_COPIES}x the data took {ratio:.1f}x the time (target: at most 12x)")


def subject_folds(table: pa.Table) -> Iterator[tuple[MotionData, MotionData]]:
    """(training part, test part) of each fold: its 2 subjects held out."""
    for held_out in DEV_FOLDS:
        test = pc.is_in(table["subject"], value_set=pa.array(held_out))
        yield dev_data(table.filter(pc.invert(test))), dev_data(table.filter(test))


def dev_data(table: pa.Table) -> MotionData:
    return MotionData.from_columns(
        table, session_id="sessionId", target="activity", features=DEV_FEATURES
    )


def train_and_test(
    train_data: MotionData,
    test_data: MotionData,
    recipe: str,
    window: int,
    seed: int,
    extra: dict,
) -> tuple[float, float, int]:
    """(per-row test accuracy, training seconds, epochs) of one run."""
    params = Hyperparameters(prediction_window=window, random_seed=seed, recipe=recipe, **extra)
    started = time.perf_counter()
    model = train(train_data, params, validation=None, log=None)
    seconds = time.perf_counter() - started
    return model.evaluate(test_data)["accuracy"], seconds, model.max_iterations
