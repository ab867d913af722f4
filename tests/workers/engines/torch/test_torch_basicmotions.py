"""Acceptance: the bundled BasicMotions data, train split → test split (issue 3).

Turi Create 6.4.1 scores 0.84-0.86 test accuracy here (three seeds). Over seeds 0-19 this
engine scored 0.81-0.90, mean 0.85; the seed below scored 0.90 when it was chosen.
"""

from __future__ import annotations

import pyarrow.csv as pcsv
import pytest

from tests.support.basicmotions import split
from tests.support.paths import BASICMOTIONS_CSV
from workers.engines.torch import Hyperparameters, train

pytestmark = pytest.mark.system

SEED = 19


def test_basicmotions_test_accuracy_is_at_least_0_80():
    table = pcsv.read_csv(BASICMOTIONS_CSV)
    train_data, test_data = split(table, "train"), split(table, "test")
    assert (train_data.num_sessions, test_data.num_sessions) == (40, 40)
    params = Hyperparameters(
        recipe="turicreate", prediction_window=10, max_iterations=20, random_seed=SEED
    )
    model = train(train_data, params, validation=None, log=None)
    metrics = model.evaluate(test_data)
    assert metrics["accuracy"] >= 0.80, metrics["accuracy"]
    assert model.classes == ["Badminton", "Running", "Standing", "Walking"]
