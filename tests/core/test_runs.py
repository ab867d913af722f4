"""The run state machine: every status change is one guarded UPDATE, and races lose cleanly."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import text

from core.db import make_engine, make_session_factory, unit_of_work
from core.models import Run, RunStatus, utcnow
from core.runs import (
    FINISHED,
    TRANSITIONS,
    cancel_run,
    claim_next_run,
    finish_run,
    hand_back_run,
    heartbeat,
    reap_stale_runs,
    reclaim_runs_of_dead_worker,
    record_live_progress,
)
from tests.support.postgres import on_postgresql
from tests.support.queue import queue

pytestmark = pytest.mark.both_databases  # the state machine


@pytest.fixture
def factory(settings):
    return make_session_factory(make_engine(settings.resolved_database_url))


def status_of(factory, run_id: str) -> Run:
    with unit_of_work(factory) as db:
        return db.get_one(Run, run_id)


def claim(factory, worker_id: str = "w1", engines=None) -> str | None:
    with unit_of_work(factory) as db:
        return claim_next_run(db, worker_id=worker_id, engines=engines)


def test_a_run_is_claimed_once_oldest_first_and_only_by_engines_the_worker_has(factory):
    queue(factory, "a", "b")
    queue(factory, "c", engine="turicreate")
    assert claim(factory, "w1", engines=["turicreate"]) == "c"
    assert [claim(factory, "w1"), claim(factory, "w2"), claim(factory, "w3")] == ["a", "b", None]
    run = status_of(factory, "a")
    assert (run.status, run.claimed_by, run.attempts) == (RunStatus.RUNNING, "w1", 1)
    assert run.started_at is not None and run.heartbeat_at is not None


@on_postgresql
def test_a_claimer_skips_the_run_another_is_claiming_instead_of_waiting_for_it(factory):
    """PostgreSQL: FOR UPDATE SKIP LOCKED. Without it the second claimer would block on the
    first one's row lock (here: fail at lock_timeout), then find that run taken."""
    queue(factory, "a", "b")
    with unit_of_work(factory) as first, unit_of_work(factory) as second:
        assert claim_next_run(first, worker_id="w1") == "a"  # not committed yet: "a" is locked
        second.execute(text("SET LOCAL lock_timeout = '2s'"))
        assert claim_next_run(second, worker_id="w2") == "b"
    assert (status_of(factory, "a").claimed_by, status_of(factory, "b").claimed_by) == ("w1", "w2")


def test_only_the_owner_records_the_end_and_a_finished_run_stays_finished(factory):
    queue(factory, "a")
    claim(factory, "w1")
    with unit_of_work(factory) as db:
        assert not finish_run(db, run_id="a", worker_id="w2", status=RunStatus.SUCCEEDED)
        assert not heartbeat(db, run_id="a", worker_id="w2").still_ours
        assert finish_run(db, run_id="a", worker_id="w1", status=RunStatus.FAILED, exit_code=1)
        # A second end (e.g. a late reply of a stopped child) changes nothing.
        assert not finish_run(db, run_id="a", worker_id="w1", status=RunStatus.SUCCEEDED)
    run = status_of(factory, "a")
    assert (run.status, run.exit_code, run.heartbeat_at) == (RunStatus.FAILED, 1, None)
    assert run.finished_at is not None


def test_cancel_ends_a_queued_run_at_once_and_asks_a_running_one_to_stop(factory):
    queue(factory, "running", "queued")
    assert claim(factory, "w1") == "running"
    with unit_of_work(factory) as db:
        assert cancel_run(db, run_id="queued") is True
        assert cancel_run(db, run_id="running") is False  # asked, not done
        assert heartbeat(db, run_id="running", worker_id="w1").cancel_requested
    assert status_of(factory, "queued").status == RunStatus.CANCELED
    assert status_of(factory, "running").status == RunStatus.RUNNING
    assert claim(factory) is None  # a canceled run is never claimed


def test_a_stopping_worker_hands_its_run_back_without_using_an_attempt(factory):
    queue(factory, "a")
    claim(factory, "w1")
    with unit_of_work(factory) as db:
        assert hand_back_run(db, run_id="a", worker_id="w1")
    run = status_of(factory, "a")
    assert (run.status, run.claimed_by, run.attempts) == (RunStatus.QUEUED, None, 0)
    assert claim(factory, "w2") == "a"


def test_a_silent_worker_loses_its_run_and_the_last_attempt_fails_it(factory):
    queue(factory, "a")
    for attempt in (1, 2):
        assert claim(factory, f"w{attempt}") == "a"
        with unit_of_work(factory) as db:
            db.get_one(Run, "a").heartbeat_at = utcnow() - timedelta(seconds=60)
        with unit_of_work(factory) as db:
            assert reap_stale_runs(db, timeout_s=30, max_attempts=2) == ["a"]
    run = status_of(factory, "a")
    assert run.status == RunStatus.FAILED
    assert "stopped responding" in run.error_message and "all 2 attempts" in run.error_message
    with unit_of_work(factory) as db:  # the dead worker's late report is refused
        assert not finish_run(db, run_id="a", worker_id="w2", status=RunStatus.SUCCEEDED)


def test_the_runs_of_a_dead_worker_are_reclaimed_at_once_and_only_theirs(factory):
    queue(factory, "a", "b", "c")
    claim(factory, "host_1:42:7")
    claim(factory, "host_1:420:7")  # another process whose pid starts the same
    claim(factory, "hostX1:42:7")  # `_` is no wildcard
    with unit_of_work(factory) as db:
        reclaimed = reclaim_runs_of_dead_worker(
            db, worker_prefix="host_1:42:", max_attempts=3, why="was killed by signal 9"
        )
    assert reclaimed == ["a"]  # its heartbeat is fresh: no timeout needed
    assert (status_of(factory, "a").status, status_of(factory, "a").claimed_by) == ("queued", None)
    assert {status_of(factory, r).status for r in ("b", "c")} == {RunStatus.RUNNING}
    claim(factory, "host_1:43:7")  # "a" again: its second attempt
    with unit_of_work(factory) as db:
        assert reclaim_runs_of_dead_worker(
            db, worker_prefix="host_1:43:", max_attempts=2, why="was killed by signal 9"
        ) == ["a"]
    failed = status_of(factory, "a")
    assert failed.status == RunStatus.FAILED
    assert failed.error_message == (
        "worker host_1:43:7 was killed by signal 9 and the run has used all 2 attempts"
    )


@pytest.mark.unit
def test_the_edges_are_the_documented_ones():
    assert {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELED} == FINISHED
    assert TRANSITIONS[RunStatus.QUEUED] == {
        RunStatus.RUNNING,
        RunStatus.CANCELED,
        RunStatus.FAILED,
    }


def test_an_illegal_edge_raises_even_under_python_dash_o(settings):
    """The guard is an exception, not an assert: `python -O` keeps it."""
    script = f"""
from core.db import make_engine, make_session_factory, unit_of_work
from core.models import RunStatus
from core.runs import IllegalTransition, finish_run
factory = make_session_factory(make_engine({settings.resolved_database_url!r}))
with unit_of_work(factory) as db:
    try:
        finish_run(db, run_id="x", worker_id="w", status=RunStatus.RUNNING)
    except IllegalTransition as exc:
        print("refused:", exc)
"""
    result = subprocess.run(
        [sys.executable, "-O", "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "refused: a run cannot go from running to running" in result.stdout


def live_progress(factory, run_id: str, **progress) -> bool:
    with unit_of_work(factory) as db:
        return record_live_progress(db, run_id=run_id, progress=progress)


def test_the_epoch_in_progress_is_kept_while_running_and_cleared_when_the_run_ends(factory):
    queue(factory, "a")
    assert not live_progress(factory, "a", iteration=1, batches_done=0)  # queued: not kept
    assert claim(factory) == "a"
    assert live_progress(factory, "a", iteration=1, batches_done=3, batches_total=9)
    assert status_of(factory, "a").live_progress == {
        "iteration": 1,
        "batches_done": 3,
        "batches_total": 9,
    }
    with unit_of_work(factory) as db:
        assert hand_back_run(db, run_id="a", worker_id="w1")
    assert status_of(factory, "a").live_progress is None  # the next attempt starts afresh
    assert claim(factory) == "a"
    assert live_progress(factory, "a", iteration=2, batches_done=1)
    with unit_of_work(factory) as db:
        assert finish_run(db, run_id="a", worker_id="w1", status=RunStatus.SUCCEEDED)
    assert status_of(factory, "a").live_progress is None
    assert not live_progress(factory, "a", iteration=2, batches_done=2)  # ended: not kept
