"""Synthetic sessions, and one torch thread.

`random_sessions`: like Turi Create's own test data (spec §6.1): uniform features on
[-100, 100], i.i.d. random integer labels 0..8 per row (pure noise), prediction_window 5, no
validation. The data is small so training takes a fraction of a second.

`synthetic_sessions`: the benchmarks' workload, 400 sessions × 1,000 rows × 6 features of one
activity each (class-dependent sine frequencies plus noise).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import numpy as np
import torch

from workers.engines.torch import MotionData

FEATURES = ("X1-r", "X2-r", "X3-r")
NUM_SESSIONS = 400
ROWS_PER_SESSION = 1_000
NUM_FEATURES = 6
NUM_CLASSES = 6


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


def synthetic_sessions(seed: int = 0) -> MotionData:
    """Sessions of one activity each: class-dependent sine frequencies plus noise."""
    rng = np.random.default_rng(seed)
    activity = rng.integers(0, NUM_CLASSES, NUM_SESSIONS)  # (S,)
    t = np.arange(ROWS_PER_SESSION) / 50.0  # 50 Hz
    frequency = 0.5 + activity[:, None, None] + rng.uniform(0, 0.3, (NUM_SESSIONS, 1, 6))
    signal = np.sin(2 * np.pi * frequency * t[None, :, None])  # (S, T, F)
    noise = rng.normal(0, 0.5, signal.shape)
    features = (signal + noise).reshape(-1, NUM_FEATURES).astype(np.float32)  # (S·T, F)
    return MotionData(
        session_ids=np.repeat([f"session-{i:04d}" for i in range(NUM_SESSIONS)], ROWS_PER_SESSION),
        features=features,
        feature_names=tuple(f"f{j}" for j in range(NUM_FEATURES)),
        targets=np.repeat(activity, ROWS_PER_SESSION),
        session_column="session_id",
        target_column="activity",
    )
