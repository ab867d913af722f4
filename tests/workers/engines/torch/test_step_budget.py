"""The motionlab recipe's training budget is in optimiser steps, not epochs (issue 28): more
data means fewer, longer epochs rather than more work; the epochs it took are recorded."""

from __future__ import annotations

import pytest

from core.recipes import (
    MOTIONLAB,
    RECIPE_DEFAULTS,
    TURICREATE,
    count_chunks,
    default_max_iterations,
)
from workers.engines.torch import Hyperparameters, train

BUDGET = RECIPE_DEFAULTS[MOTIONLAB].training_steps

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("num_chunks", "batch_size", "epochs"),
    [
        (40, 16, 133),  # BasicMotions at window 10: 3 steps an epoch
        (400, 16, 16),  # 25 steps an epoch
        (4000, 16, 2),  # 250 steps an epoch: 1.6 epochs rounds to 2
        (100_000, 16, 1),  # at least one epoch, however large the data
        (1, 16, 400),  # one step an epoch
    ],
)
def test_motionlab_epochs_come_from_its_step_budget(num_chunks, batch_size, epochs):
    assert BUDGET == 400
    assert default_max_iterations(MOTIONLAB, num_chunks=num_chunks, batch_size=batch_size) == epochs


def test_turicreate_keeps_its_epochs_whatever_the_data():
    for num_chunks in (1, 40, 100_000):
        assert default_max_iterations(TURICREATE, num_chunks=num_chunks, batch_size=32) == 10


def test_chunks_are_counted_per_session_from_its_first_row():
    # window 5: 100 rows a chunk; 100 → 1, 101 → 2, 1 → 1
    assert count_chunks([100, 101, 1], 5) == 4


def test_training_records_the_epochs_its_budget_bought(make_sessions):
    data = make_sessions([100] * 8)  # window 5: one chunk each; batch 4 → 2 steps an epoch
    model = train(
        data,
        Hyperparameters(prediction_window=5, batch_size=4, random_seed=0),
        validation=None,
        log=None,
    )
    assert model.max_iterations == model.training_iterations == BUDGET // 2
    asked = train(
        data,
        Hyperparameters(prediction_window=5, batch_size=4, max_iterations=3, random_seed=0),
        validation=None,
        log=None,
    )
    assert asked.max_iterations == asked.training_iterations == 3
