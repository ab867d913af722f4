"""Synthetic sessions like Turi Create's own test data (spec §6.1), and one trained model.

Turi Create's fixture: uniform features on [-100, 100], i.i.d. random integer labels 0..8 per
row (pure noise), prediction_window 5, no validation. The data is small so training takes
a fraction of a second.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pytest
import torch

from workers.engines.torch import ActivityClassifier, Hyperparameters, MotionData, train

FEATURES = ("X1-r", "X2-r", "X3-r")


def random_sessions(
    session_sizes: Sequence[int],
    *,
    num_labels: int = 9,
    seed: int = 42,
    session_ids: Sequence[object] | None = None,
) -> MotionData:
    """Contiguous sessions of the given sizes; ids 0, 1, 2… unless given."""
    rng = np.random.default_rng(seed)
    num_rows = int(sum(session_sizes))
    ids = session_ids if session_ids is not None else range(len(session_sizes))
    return MotionData(
        session_ids=np.repeat(np.asarray(list(ids)), session_sizes),
        features=rng.uniform(-100, 100, (num_rows, len(FEATURES))).astype(np.float32),
        feature_names=FEATURES,
        targets=rng.integers(0, num_labels, num_rows),
        session_column="session_id",
        target_column="activity_label",
    )


def as_columns(data: MotionData) -> dict[str, np.ndarray]:
    """The same rows as named columns, the way an upload or a CSV delivers them."""
    columns = {data.session_column: data.session_ids}
    columns.update({name: data.features[:, j] for j, name in enumerate(data.feature_names)})
    if data.targets is not None:
        columns[data.target_column] = data.targets
    return columns


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


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """One intra-op thread, restored afterwards.

    These workloads are tiny, so a second thread gains nothing, while on a shared 2-core
    machine OpenMP threads waiting on each other made a 0.4 s training run take 10-20 s.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@pytest.fixture(autouse=True)
def single_torch_thread() -> Iterator[None]:
    with one_torch_thread():
        yield
