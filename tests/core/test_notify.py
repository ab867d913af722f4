"""Waking up on changes: PostgreSQL notifies (migration 0007's triggers), SQLite polls."""

from __future__ import annotations

import threading
import time

import pytest

from core.db import make_engine, make_session_factory, unit_of_work
from core.migrate import check
from core.models import RunProgress, RunStatus
from core.notify import QUEUE_CHANNEL, RUN_EVENTS_CHANNEL, PollingListener, listen
from core.runs import (
    cancel_run,
    claim_next_run,
    finish_run,
    hand_back_run,
    heartbeat,
    reclaim_runs_of_dead_worker,
)
from tests.support.queue import queue

QUIET_S = 0.3  # long enough for a notification on a local socket to arrive


@pytest.fixture
def factory(postgres_url):
    return make_session_factory(make_engine(postgres_url))


@pytest.fixture
def heard(postgres_url):
    """What each channel's listener hears: `heard(channel)` drains and returns its payloads."""
    listeners = {
        channel: listen(postgres_url, channel, poll_interval_s=0.1)
        for channel in (QUEUE_CHANNEL, RUN_EVENTS_CHANNEL)
    }
    for listener in listeners.values():
        listener.wait(0)  # LISTEN now: notifications before this are not theirs

    def drain(channel: str) -> list[str]:
        payloads, deadline = [], time.monotonic() + QUIET_S
        while (remaining := deadline - time.monotonic()) > 0:
            payloads += listeners[channel].wait(remaining)
        return payloads

    yield drain
    for listener in listeners.values():
        listener.close()


def test_the_postgresql_schema_matches_the_models(postgres_url):
    check(postgres_url)  # raises if autogenerate would emit any operation


def test_a_queued_run_wakes_the_workers_and_its_streams(factory, heard):
    queue(factory, "a")
    assert heard(QUEUE_CHANNEL) == ["torch"]
    assert heard(RUN_EVENTS_CHANNEL) == ["a"]


def test_a_handed_back_or_reclaimed_run_wakes_the_workers_again(factory, heard):
    queue(factory, "a")
    assert heard(QUEUE_CHANNEL) == ["torch"]
    with unit_of_work(factory) as db:
        claim_next_run(db, worker_id="host:1:1")
    assert heard(QUEUE_CHANNEL) == []  # running: nothing for the workers
    with unit_of_work(factory) as db:
        hand_back_run(db, run_id="a", worker_id="host:1:1")
    assert heard(QUEUE_CHANNEL) == ["torch"]
    with unit_of_work(factory) as db:
        claim_next_run(db, worker_id="host:2:1")
    with unit_of_work(factory) as db:
        reclaim_runs_of_dead_worker(db, worker_prefix="host:2:", max_attempts=3, why="died")
    assert heard(QUEUE_CHANNEL) == ["torch"]


def test_progress_cancel_and_the_end_wake_streams_but_heartbeats_do_not(factory, heard):
    queue(factory, "a")
    with unit_of_work(factory) as db:
        claim_next_run(db, worker_id="w")
    assert heard(QUEUE_CHANNEL) == ["torch"]  # queued (then claimed: nothing more)
    assert heard(RUN_EVENTS_CHANNEL) == ["a", "a"]  # queued, running
    with unit_of_work(factory) as db:
        heartbeat(db, run_id="a", worker_id="w")
    assert heard(RUN_EVENTS_CHANNEL) == []
    with unit_of_work(factory) as db:
        db.add(RunProgress(run_id="a", iteration=1, elapsed_s=0.1))
    assert heard(RUN_EVENTS_CHANNEL) == ["a"]
    with unit_of_work(factory) as db:
        cancel_run(db, run_id="a")  # running: a request to its worker
    assert heard(RUN_EVENTS_CHANNEL) == ["a"]
    with unit_of_work(factory) as db:
        finish_run(db, run_id="a", worker_id="w", status=RunStatus.CANCELED)
    assert heard(RUN_EVENTS_CHANNEL) == ["a"]
    assert heard(QUEUE_CHANNEL) == []


def test_nothing_is_heard_of_a_transaction_that_rolls_back(factory, heard):
    queue(factory, "a")
    assert heard(RUN_EVENTS_CHANNEL) == ["a"]
    with pytest.raises(RuntimeError), unit_of_work(factory) as db:
        db.add(RunProgress(run_id="a", iteration=1, elapsed_s=0.1))
        db.flush()  # the trigger has fired: NOTIFY waits for the commit
        raise RuntimeError("rolled back")
    assert heard(RUN_EVENTS_CHANNEL) == []


def test_a_listener_sleeps_until_notified_or_interrupted(factory, postgres_url):
    listener = listen(postgres_url, QUEUE_CHANNEL, poll_interval_s=0.1)
    try:
        listener.wait(0)
        threading.Timer(0.3, queue, args=(factory, "a")).start()
        started = time.monotonic()
        assert listener.wait(timeout_s=30) == ["torch"]
        assert time.monotonic() - started < 10  # woken, not timed out (nor polling: 0.1 s)
        threading.Timer(0.3, listener.interrupt).start()
        assert listener.wait(timeout_s=30) == []
        assert time.monotonic() - started < 20
    finally:
        listener.close()


@pytest.mark.unit
def test_on_sqlite_a_listener_is_a_poll_interval(tmp_path):
    listener = listen(f"sqlite:///{tmp_path / 'x.db'}", QUEUE_CHANNEL, poll_interval_s=0.05)
    assert type(listener) is PollingListener
    started = time.monotonic()
    assert listener.wait(timeout_s=30) == []
    assert time.monotonic() - started < 10  # the poll interval, not the 30 s timeout
