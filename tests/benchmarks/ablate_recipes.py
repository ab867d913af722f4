"""What each candidate of issue 28 bought: the motionlab recipe with one thing changed, measured
as bench_quality measures the recipes (subject cross-validation on the development file, 4
folds × seeds 0-2; BasicMotions, seeds 0-4). The README's ablation table comes from here.

    .venv/bin/python -m tests.benchmarks.ablate_recipes                 # every variant (~1 h)
    .venv/bin/python -m tests.benchmarks.ablate_recipes rotation mixup  # some of them

Not collected by `make bench` (its name has no bench_ prefix): it trains ~17 models a variant.
A variant replaces the motionlab recipe's settings for the duration of its runs only.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import statistics
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pyarrow.csv as pcsv
import torch

from core.recipes import MOTIONLAB
from tests.support.basicmotions import split
from tests.support.paths import BASICMOTIONS_CSV
from tests.support.quality import (
    BASICMOTIONS_SEEDS,
    BASICMOTIONS_WINDOW,
    DEV_CSV,
    DEV_FOLDS,
    DEV_SEEDS,
    DEV_WINDOW,
    subject_folds,
    train_and_test,
)
from workers.engines.torch import recipes
from workers.motion_data import MotionData

# A validation part carved from the training data, chosen by seed: (train, validation).
Carve = Callable[[MotionData, np.ndarray, int], tuple[MotionData, MotionData]]


@dataclasses.dataclass(frozen=True)
class Variant:
    description: str
    recipe: dict[str, Any] = dataclasses.field(default_factory=dict)  # Recipe fields changed
    params: dict[str, Any] = dataclasses.field(default_factory=dict)  # Hyperparameters
    carve: Carve | None = None  # no validation part unless given


def carve_subject(
    data: MotionData, subjects: np.ndarray, seed: int
) -> tuple[MotionData, MotionData]:
    """One training subject validates (best-epoch selection), the others train."""
    held_out = np.random.default_rng(seed).choice(np.unique(subjects))
    return data.take_rows(subjects != held_out), data.take_rows(subjects == held_out)


def carve_sessions(data: MotionData, _: np.ndarray, seed: int) -> tuple[MotionData, MotionData]:
    """A sixth of the training sessions validate, whoever recorded them."""
    ids = np.unique(data.session_ids)
    held_out = np.random.default_rng(seed).choice(ids, max(1, len(ids) // 6), replace=False)
    validates = np.isin(data.session_ids, held_out)
    return data.take_rows(~validates), data.take_rows(validates)


VARIANTS = {
    "default": Variant("the default"),
    "no-tempo": Variant("no tempo change (offsets, gain, jitter)", {"tempo_change": 0.0}),
    "150-epochs": Variant("150 epochs, not 400 steps", params={"max_iterations": 150}),
    "rotation": Variant("+ rotations of sensor triples ≤ 30°", {"max_rotation_deg": 30.0}),
    "rotation-15": Variant("+ rotations of sensor triples ≤ 15°", {"max_rotation_deg": 15.0}),
    "rotation-180": Variant("+ rotations of sensor triples, any", {"max_rotation_deg": 180.0}),
    "magnitude": Variant("+ smooth magnitude warp, sd 0.2", {"magnitude_warp_sd": 0.2}),
    "mixup": Variant("+ mixup of chunk pairs, α 0.2", {"mixup_alpha": 0.2}),
    "all": Variant(
        "+ rotations ≤ 30°, magnitude warp and mixup",
        {"max_rotation_deg": 30.0, "magnitude_warp_sd": 0.2, "mixup_alpha": 0.2},
    ),
    "carve-subject": Variant("+ best epoch on 1 carved-out subject", carve=carve_subject),
    "carve-sessions": Variant("+ best epoch on 1/6 carved-out sessions", carve=carve_sessions),
}


@contextlib.contextmanager
def motionlab_as(changes: dict[str, Any]) -> Iterator[None]:
    """The motionlab recipe with `changes` while the block runs."""
    original = recipes.RECIPES[MOTIONLAB]
    recipes.RECIPES[MOTIONLAB] = dataclasses.replace(original, **changes)
    try:
        yield
    finally:
        recipes.RECIPES[MOTIONLAB] = original


def measure(variant: Variant) -> str:
    table = pcsv.read_csv(DEV_CSV)
    folds: list[list[float]] = []
    seconds: list[float] = []  # CPU time: steadier than wall time on a shared machine
    with motionlab_as(variant.recipe):
        for number, (train_data, test_data) in enumerate(subject_folds(table)):
            subjects = _training_subjects(table, DEV_FOLDS[number])
            folds.append([])
            for seed in DEV_SEEDS:
                part, validation = train_data, None
                if variant.carve is not None:
                    part, validation = variant.carve(train_data, subjects, seed)
                run = train_and_test(
                    part, test_data, MOTIONLAB, DEV_WINDOW, seed, variant.params, validation
                )
                folds[-1].append(run.accuracy)
                seconds.append(run.cpu_s)
        basicmotions = pcsv.read_csv(BASICMOTIONS_CSV)
        bm_train, bm_test = split(basicmotions, "train"), split(basicmotions, "test")
        bm = [
            train_and_test(bm_train, bm_test, MOTIONLAB, BASICMOTIONS_WINDOW, seed, variant.params)
            for seed in BASICMOTIONS_SEEDS
        ]
    runs = [a for fold in folds for a in fold]
    fold_means = [statistics.mean(fold) for fold in folds]
    bm_accuracy = [run.accuracy for run in bm]
    return (
        f"| {variant.description} | {statistics.mean(runs):.3f} ± {statistics.stdev(runs):.3f} "
        f"| {' '.join(f'{mean:.3f}' for mean in fold_means)} "
        f"| {statistics.mean(bm_accuracy):.3f} ± {statistics.stdev(bm_accuracy):.3f} "
        f"| {statistics.mean(seconds):.1f} s / {statistics.mean(run.cpu_s for run in bm):.1f} s |"
    )


def _training_subjects(table, held_out: tuple[str, ...]) -> np.ndarray:
    subjects = table["subject"].to_numpy(zero_copy_only=False)
    return subjects[~np.isin(subjects, held_out)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", metavar="VARIANT", help=", ".join(VARIANTS))
    names = parser.parse_args().variants or list(VARIANTS)
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; choose from {', '.join(VARIANTS)}")
    torch.set_num_threads(1)
    folds = ", ".join("+".join(fold) for fold in DEV_FOLDS)
    print(f"| change | subjects: mean ± sd | folds ({folds}) | BasicMotions | CPU s dev / BM |")
    print("|---|---|---|---|---|")
    for name in names:
        print(measure(VARIANTS[name]), flush=True)


if __name__ == "__main__":
    main()
