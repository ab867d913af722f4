"""How many CPU threads a training child gets: torch's default spins on a busy host."""

from __future__ import annotations

import pytest

from core.settings import Settings
from workers.run_process import training_threads
from workers.supervisor import WorkerPool

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("cores", "workers", "shares_host_with_api", "expected"),
    [
        (2, 1, False, 1),  # a small host: one thread, even for a worker alone
        (16, 1, True, 1),  # beside the API (`motionlab serve`): the API needs its cores
        (16, 4, False, 4),  # a training host: its cores shared among its workers
        (16, 32, False, 1),
    ],
)
def test_auto_policy(tmp_path, cores, workers, shares_host_with_api, expected):
    settings = Settings(home=tmp_path, workers=workers)
    found = training_threads(settings, shares_host_with_api=shares_host_with_api, cpu_count=cores)
    assert found == expected


def test_the_setting_overrides_the_policy(tmp_path):
    settings = Settings(home=tmp_path, train_threads=3)
    assert training_threads(settings, shares_host_with_api=True, cpu_count=2) == 3


def test_embedded_workers_train_on_one_thread(tmp_path):
    """The children of `motionlab serve` get the resolved count, whatever the host's size."""
    pool = WorkerPool(Settings(home=tmp_path), 0)
    assert pool.settings.train_threads == 1
    pinned = WorkerPool(Settings(home=tmp_path, train_threads=2), 0)
    assert pinned.settings.train_threads == 2
