"""Synthetic sessions like Turi Create's own test data (tests/support/synthetic.py), one
trained model, and one torch thread for every test here."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest

from tests.support.synthetic import as_columns, one_torch_thread, random_sessions
from workers.engines.torch import ActivityClassifier, Hyperparameters, MotionData, train


@pytest.fixture(scope="session")
def sessions() -> MotionData:
    """1,000 rows in three sessions of uneven length (not multiples of the window)."""
    return random_sessions([437, 301, 262])


@pytest.fixture(scope="session")
def model(sessions: MotionData) -> ActivityClassifier:
    params = Hyperparameters(
        recipe="turicreate", prediction_window=5, max_iterations=3, random_seed=86
    )
    with one_torch_thread():
        return train(sessions, params, validation=None, log=None)


@pytest.fixture
def make_sessions() -> Callable[..., MotionData]:
    return random_sessions


@pytest.fixture
def to_columns() -> Callable[[MotionData], dict[str, np.ndarray]]:
    return as_columns


@pytest.fixture(autouse=True)
def single_torch_thread() -> Iterator[None]:
    with one_torch_thread():
        yield
