"""On PostgreSQL a run's event stream and an idle worker wait for NOTIFY instead of polling."""

from __future__ import annotations

import threading
import time

from sqlalchemy import event

from service.runs.event_hub import SAFETY_POLL_S
from tests.support.postgres import on_postgresql
from tests.support.runs import start_run, upload_tiny
from workers.worker import Worker

IDLE_S = 1.0  # SQLite's streams and workers poll 10 times in this while


def statements_on(engine, marker: str) -> list[float]:
    """When each statement mentioning `marker` runs on `engine` from now on."""
    seen: list[float] = []

    def record(_conn, _cursor, statement, *_args):
        if marker in statement:
            seen.append(time.monotonic())

    event.listen(engine, "before_cursor_execute", record)
    return seen


def next_event(lines, name: str) -> None:
    for line in lines:
        if line == f"event: {name}":
            return
    raise AssertionError(f"the stream ended without a {name} event")


@on_postgresql
def test_a_waiting_stream_reads_nothing_until_its_run_changes(server, api):
    upload_tiny(api)
    run_id = start_run(api, prediction_window=5, max_iterations=1, split={"strategy": "none"})
    reads = statements_on(server.server.config.app.state.engine, "run_progress")
    with api.stream("GET", f"/v1/runs/{run_id}/events") as stream:
        lines = stream.iter_lines()
        next_event(lines, "status")  # queued
        time.sleep(IDLE_S)
        reads_while_idle = len(reads)
        canceled_at = time.monotonic()
        assert api.post(f"/v1/runs/{run_id}/cancel").status_code == 200
        next_event(lines, "end")
        woken_after_s = time.monotonic() - canceled_at
    assert reads_while_idle <= 2  # the first read (and at most one safety poll), not 10
    assert woken_after_s < SAFETY_POLL_S  # the notification woke it, not the safety poll


@on_postgresql
def test_an_idle_worker_does_not_poll_and_claims_a_new_run_when_notified(api, settings):
    upload_tiny(api)
    worker = Worker(settings.model_copy(update={"heartbeat_interval_s": 30.0}))
    claims = statements_on(worker.factory.kw["bind"], "FROM runs")
    working = threading.Thread(target=worker.work, daemon=True)
    working.start()
    try:
        deadline = time.monotonic() + 60  # the fork server starts (imports torch) first
        while not claims and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(IDLE_S)
        queries_while_idle = len(claims)
        queued_at = time.monotonic()
        run_id = start_run(api, prediction_window=5, max_iterations=1, split={"strategy": "none"})
        while (run := api.get(f"/v1/runs/{run_id}").json())["status"] == "queued":
            assert time.monotonic() - queued_at < 20, "the worker did not claim the run"
            time.sleep(0.01)
        claimed_after_s = time.monotonic() - queued_at
    finally:
        worker.stop()
        working.join(timeout=60)
    assert queries_while_idle <= 3  # reap + claim once (SQLite: every 0.1 s)
    # The safety poll (heartbeat_interval_s here) is 30 s: only NOTIFY explains this.
    assert claimed_after_s < 10
    assert run["claimed_by"] == worker.id
