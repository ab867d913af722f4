"""What the quality benchmark and the recipe ablations share (tests/benchmarks/bench_quality.py
and ablate_recipes.py): the development file's subject folds, the protocol's windows and seeds,
and one measured training run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from tests.support.paths import REPO
from workers.engines.torch import Hyperparameters, MotionData, train

DEV_CSV = REPO.parent / "shared" / "data" / "wrist-exercises-dev.csv.gz"
DEV_FEATURES = ["ax", "ay", "az", "wx", "wy", "wz"]
DEV_FOLDS = [("s1", "s2"), ("s3", "s4"), ("s5", "s6"), ("s7", "s8")]
DEV_WINDOW = 50
DEV_SEEDS = range(3)
BASICMOTIONS_WINDOW = 10
BASICMOTIONS_SEEDS = range(5)


class Run(NamedTuple):
    accuracy: float  # per-row test accuracy, as the service's metrics count it
    wall_s: float  # the whole `train` call
    cpu_s: float  # the same in CPU time: steadier than wall time on a shared machine
    epochs: int


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
    validation: MotionData | None = None,
) -> Run:
    """One training run, measured on `test_data`."""
    params = Hyperparameters(prediction_window=window, random_seed=seed, recipe=recipe, **extra)
    wall, cpu = time.perf_counter(), time.process_time()
    model = train(train_data, params, validation=validation, log=None)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Run(model.evaluate(test_data)["accuracy"], wall, cpu, model.max_iterations)
