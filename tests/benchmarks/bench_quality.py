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
from dataclasses import dataclass

import numpy as np
import pyarrow.csv as pcsv
import torch

from core.recipes import MOTIONLAB, TURICREATE
from tests.support.basicmotions import split
from tests.support.paths import BASICMOTIONS_CSV
from tests.support.quality import (
    BASICMOTIONS_SEEDS,
    BASICMOTIONS_WINDOW,
    DEV_CSV,
    DEV_FOLDS,
    DEV_SEEDS,
    DEV_WINDOW,
    Run,
    dev_data,
    subject_folds,
    train_and_test,
)
from workers.engines.torch import MotionData

SCALE_COPIES = 10
SETTINGS = {TURICREATE: {"max_iterations": 20}, MOTIONLAB: {}}


@dataclass
class Scores:
    accuracies: dict[int, list[float]]  # fold (0 when there are none) → one per seed
    runs: list[Run]

    def add(self, fold: int, run: Run) -> None:
        self.accuracies.setdefault(fold, []).append(run.accuracy)
        self.runs.append(run)

    @property
    def wall_s(self) -> float:
        return statistics.mean(run.wall_s for run in self.runs)

    @property
    def cpu_s(self) -> float:
        return statistics.mean(run.cpu_s for run in self.runs)

    @property
    def iterations(self) -> str:
        low, high = min(r.epochs for r in self.runs), max(r.epochs for r in self.runs)
        return f"{low} iterations" if low == high else f"{low}-{high} iterations"

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
    subjects = measure_subjects()
    basicmotions = measure_basicmotions()
    measure_scaling()
    print("\nsummary (motionlab vs turicreate):")
    for name, scores in (("subjects", subjects), ("BasicMotions", basicmotions)):
        motionlab, turicreate = scores[MOTIONLAB], scores[TURICREATE]
        print(
            f"  {name}: motionlab {motionlab.summary()}, turicreate {turicreate.summary()}, "
            f"time {motionlab.wall_s / turicreate.wall_s:.1f}x "
            f"(CPU time {motionlab.cpu_s / turicreate.cpu_s:.1f}x)"
        )


def measure_subjects() -> dict[str, Scores]:
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
        scores = Scores({}, [])
        for fold, (train_data, test_data) in enumerate(subject_folds(table)):
            for seed in DEV_SEEDS:
                scores.add(
                    fold, train_and_test(train_data, test_data, recipe, DEV_WINDOW, seed, extra)
                )
        folds = {fold: statistics.mean(runs) for fold, runs in scores.accuracies.items()}
        best, worst = max(folds, key=folds.__getitem__), min(folds, key=folds.__getitem__)
        print(
            f"{recipe:>10} ({scores.iterations}): test accuracy "
            f"{scores.summary()}; folds [{', '.join(f'{a:.3f}' for a in folds.values())}], "
            f"best {folds[best]:.3f} ({'+'.join(DEV_FOLDS[best])}), "
            f"worst {folds[worst]:.3f} ({'+'.join(DEV_FOLDS[worst])}); "
            f"training {scores.wall_s:.2f} s ({scores.cpu_s:.2f} s CPU)"
        )
        results[recipe] = scores
    return results


def measure_basicmotions() -> dict[str, Scores]:
    table = pcsv.read_csv(BASICMOTIONS_CSV)
    train_data, test_data = split(table, "train"), split(table, "test")
    print(
        f"\nBasicMotions train → test, window {BASICMOTIONS_WINDOW}, "
        f"seeds {list(BASICMOTIONS_SEEDS)}"
    )
    results = {}
    for recipe, extra in SETTINGS.items():
        scores = Scores({}, [])
        for seed in BASICMOTIONS_SEEDS:
            run = train_and_test(train_data, test_data, recipe, BASICMOTIONS_WINDOW, seed, extra)
            scores.add(0, run)
        print(
            f"{recipe:>10} ({scores.iterations}): test accuracy {scores.summary()} "
            f"[{', '.join(f'{a:.3f}' for a in scores.all)}], "
            f"training {scores.wall_s:.2f} s ({scores.cpu_s:.2f} s CPU)"
        )
        results[recipe] = scores
    return results


def measure_scaling() -> None:
    data = dev_data(pcsv.read_csv(DEV_CSV))
    copies = MotionData(
        session_ids=np.char.add(
            np.repeat(np.arange(SCALE_COPIES).astype(str), data.num_rows),
            np.tile(data.session_ids.astype(str), SCALE_COPIES),
        ),
        features=np.tile(data.features, (SCALE_COPIES, 1)),
        feature_names=data.feature_names,
        targets=np.tile(data.labels, SCALE_COPIES),
    )
    runs = {}
    print()
    for name, part in (("1x", data), (f"{SCALE_COPIES}x", copies)):
        runs[name] = train_and_test(part, data, MOTIONLAB, DEV_WINDOW, 0, {})
        print(
            f"scaling, motionlab: {name} the data ({part.num_rows:,} rows): "
            f"{runs[name].epochs} iterations, {runs[name].wall_s:.1f} s "
            f"({runs[name].cpu_s:.1f} s CPU)"
        )
    small, large = runs["1x"], runs[f"{SCALE_COPIES}x"]
    print(
        f"{SCALE_COPIES}x the data took {large.wall_s / small.wall_s:.1f}x the time "
        f"({large.cpu_s / small.cpu_s:.1f}x CPU; target: at most 12x)"
    )
