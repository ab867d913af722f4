"""The queue under stress: exactly-once execution, crashed workers and runs, SIGTERM hand-back."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.support.homes import STALE_AFTER_3_S
from tests.support.processes import alive
from tests.support.runs import (
    LONG_RUN_ITERATIONS,
    long_run,
    running_workers,
    start_run,
    upload_tiny,
    wait_for,
    wait_for_progress,
)

# Many worker processes and runs. The queue's claims and reclaims run on both databases; what
# the worker does with its processes (SIGTERM, a killed run) does not depend on the database.
pytestmark = pytest.mark.system


@pytest.fixture
def settings(settings):
    """Quick heartbeats: a dead worker's run goes stale in seconds, and a worker notices
    SIGTERM within 0.2 s."""
    return settings.model_copy(update=STALE_AFTER_3_S)


def attempt_markers(settings, run_id: str) -> list:
    return sorted((settings.runs_dir / run_id).glob("attempt-*.started"))


def run_process(settings, run_id: str) -> int:
    """The pid of the process executing the run's latest attempt (named in its marker)."""
    marker = max(attempt_markers(settings, run_id), key=lambda path: path.stat().st_mtime)
    return int(marker.name.removeprefix("attempt-").removesuffix(".started"))


def wait_until_gone(pid: int, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid), f"process {pid} is still running"


@pytest.mark.both_databases
def test_twenty_runs_on_four_workers_each_execute_exactly_once(api, settings):
    upload_tiny(api, sessions=4, rows=10)
    ids = [
        start_run(
            api, prediction_window=5, max_iterations=1, random_seed=i, split={"strategy": "none"}
        )
        for i in range(20)
    ]
    # Exactly once is the point here, not reclaiming: a heartbeat late under CPU contention
    # (4 workers on 2 cores) must not count as a dead worker.
    with running_workers(settings, 4, heartbeat_timeout_s=30.0):
        runs = [wait_for(api, run_id, {"succeeded", "failed"}, timeout_s=240) for run_id in ids]
    assert [r["status"] for r in runs] == ["succeeded"] * 20
    assert [r["attempts"] for r in runs] == [1] * 20
    assert all(len(attempt_markers(settings, run_id)) == 1 for run_id in ids)
    assert len({r["claimed_by"] for r in runs} | {None}) >= 2  # the work was shared
    assert api.get("/v1/runs", params={"status": "running"}).json()["total"] == 0


@pytest.mark.both_databases
def test_worker_killed_mid_run_is_reclaimed_and_the_run_finishes(api, settings):
    run_id = long_run(api)
    with running_workers(settings, 1) as [worker]:
        wait_for_progress(api, run_id)
        os.kill(worker.pid, signal.SIGKILL)
        worker.join()
    wait_until_gone(run_process(settings, run_id))  # orphaned, it stops training at once
    assert api.get(f"/v1/runs/{run_id}").json()["status"] == "running"  # until it goes stale
    with running_workers(settings, 1):
        run = wait_for(api, run_id, {"succeeded", "failed"}, timeout_s=240)
    assert run["status"] == "succeeded" and run["attempts"] == 2
    assert len(attempt_markers(settings, run_id)) == 2
    assert len(api.get(f"/v1/runs/{run_id}/progress").json()) == LONG_RUN_ITERATIONS
    assert api.get("/v1/runs", params={"status": "running"}).json()["total"] == 0


def test_run_fails_with_the_reason_after_the_allowed_attempts(api, settings):
    run_id = long_run(api)
    with running_workers(settings, 1, max_attempts=1) as [worker]:
        wait_for_progress(api, run_id)
        os.kill(worker.pid, signal.SIGKILL)
        worker.join()
    with running_workers(settings, 1, max_attempts=1):
        run = wait_for(api, run_id, {"failed"}, timeout_s=30)
    assert "stopped responding" in run["error_message"]
    assert "1 attempts" in run["error_message"]


def test_sigterm_hands_the_run_back_and_leaves_nothing_running(api, settings):
    run_id = long_run(api)
    with running_workers(settings, 1) as [worker]:
        wait_for_progress(api, run_id)
        started = time.monotonic()
        worker.terminate()
        worker.join(30)
        assert not worker.is_alive() and time.monotonic() - started < 15
    run = api.get(f"/v1/runs/{run_id}").json()
    assert run["status"] == "queued" and run["claimed_by"] is None and run["attempts"] == 0
    with running_workers(settings, 1):
        assert wait_for(api, run_id, {"succeeded"}, timeout_s=240)["attempts"] == 1


def test_a_run_killed_by_a_signal_fails_with_it_and_the_worker_goes_on(api, settings):
    run_id = long_run(api)
    with running_workers(settings, 1):
        wait_for_progress(api, run_id)
        os.kill(run_process(settings, run_id), signal.SIGKILL)  # as the OOM killer does
        run = wait_for(api, run_id, {"failed"}, timeout_s=30)
        next_run_id = start_run(api, prediction_window=5, max_iterations=1, random_seed=2)
        next_run = wait_for(api, next_run_id, {"succeeded", "failed"}, timeout_s=60)
    assert run["exit_code"] == -signal.SIGKILL
    assert "killed by signal 9 (SIGKILL) (out of memory?)" in run["error_message"]
    assert next_run["status"] == "succeeded", next_run["error_message"]
