"""Runs over HTTP with real worker processes: end to end, cancel, failure, listing."""

from __future__ import annotations

import json
import threading
import time

import pytest

from tests.support.runs import (
    running_workers,
    start_run,
    upload_basicmotions,
    upload_tiny,
    wait_for,
)


def read_events(api, run_id: str) -> list[tuple[str, dict]]:
    events = []
    with api.stream("GET", f"/v1/runs/{run_id}/events", timeout=180) as stream:
        name = None
        for line in stream.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((name, json.loads(line.removeprefix("data: "))))
    return events


@pytest.mark.system
def test_a_long_first_epoch_shows_its_batches_before_its_progress_row(api, settings):
    """A sign of life long before the first epoch ends: `preparing` events while its data loads
    (sessions loaded of total), then `batch` events (batches done of total, the loss so far),
    at training start and then about every half second."""
    upload_basicmotions(api)
    # A window of 1 row and a batch of 1 chunk: 200 batches an epoch (a second or more).
    run_id = start_run(
        api,
        prediction_window=1,
        batch_size=1,
        max_iterations=2,
        recipe="turicreate",
        random_seed=3,
        split={"strategy": "column"},
    )
    polled: list[dict] = []
    stop = threading.Event()

    def poll() -> None:  # what GET /v1/runs/{id} says meanwhile
        while not stop.is_set():
            if live := api.get(f"/v1/runs/{run_id}").json()["live_progress"]:
                polled.append(live)
            time.sleep(0.05)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        with running_workers(settings, 1):
            events = read_events(api, run_id)
    finally:
        stop.set()
        poller.join()
    training = [live for live in polled if live["phase"] == "training"]
    assert training and {live["batches_total"] for live in training} == {200}
    names = [name for name, _ in events]
    assert names.index("batch") < names.index("progress")  # before the first epoch ended
    # Its data loads first (milliseconds here: a stream that polls may see none of it), then
    # it trains: test_a_run_shows_that_it_prepares_before_reading_its_data proves the order.
    preparing = [data for name, data in events if name == "preparing"]
    assert names[: len(preparing) + 2].count("preparing") == len(preparing)  # status, then these
    assert {data["sessions_total"] for data in preparing} <= {80}  # 40 train + 40 test
    assert all(data["sessions_loaded"] in (0, 40, 80) for data in preparing)
    first = [data for name, data in events if name == "batch" and data["iteration"] == 1]
    assert first and first[0]["batches_total"] == 200
    done = [data["batches_done"] for data in first]
    assert done == sorted(done) and done[-1] <= 200
    assert all(data["train_loss"] is None or data["train_loss"] > 0 for data in first)
    later = [data for name, data in events[names.index("progress") :] if name == "batch"]
    assert all(data["iteration"] == 2 for data in later)  # never an epoch already done
    assert api.get(f"/v1/runs/{run_id}").json()["live_progress"] is None  # ended: cleared
    assert len(api.get(f"/v1/runs/{run_id}/progress").json()) == 2  # one row per epoch


@pytest.mark.system
def test_basicmotions_run_streams_progress_and_ends_with_metrics(api, settings):
    upload_basicmotions(api)
    run_id = start_run(
        api,
        experiment="e2e",
        prediction_window=10,
        max_iterations=4,
        random_seed=7,
        split={"strategy": "column"},
    )
    with running_workers(settings, 1):
        events = read_events(api, run_id)
    names = [name for name, _ in events]
    assert names[0] == "status" and events[0][1]["status"] in ("queued", "running")
    assert [d["iteration"] for n, d in events if n == "progress"] == [1, 2, 3, 4]
    assert names[-3:] == ["status", "metrics", "end"]
    assert events[-1][1] == {"status": "succeeded"}
    metrics = events[-2][1]
    assert set(metrics) == {"train", "test"}
    for part in ("train", "test"):
        assert 0 <= metrics[part]["accuracy"] <= 1
        assert {"precision", "recall", "f1_score", "log_loss", "auc", "confusion_matrix"} <= set(
            metrics[part]
        )
    assert api.get(f"/v1/runs/{run_id}/metrics").json() == metrics
    run = api.get(f"/v1/runs/{run_id}").json()
    assert run["summary"]["test_accuracy"] == metrics["test"]["accuracy"]
    assert run["sessions_per_part"] == {"train": 40, "test": 40}
    assert run["versions"]["torch"].startswith("2.13") and run["attempts"] == 1
    assert len(api.get(f"/v1/runs/{run_id}/progress").json()) == 4
    checkpoint = api.get(f"/v1/runs/{run_id}/model")
    assert checkpoint.status_code == 200 and len(checkpoint.content) > 100_000
    again = api.get(
        f"/v1/runs/{run_id}/model", headers={"If-None-Match": checkpoint.headers["ETag"]}
    )
    assert again.status_code == 304


def test_later_uploads_do_not_change_a_queued_run(api, settings):
    upload_tiny(api, sessions=6)
    run_id = start_run(api, prediction_window=5, max_iterations=1, split={"strategy": "none"})
    before = api.get(f"/v1/runs/{run_id}").json()
    upload_tiny(api, sessions=9, seed=1, replace=True)  # new samples under the same ids, and more
    after = api.get(f"/v1/runs/{run_id}").json()
    assert after["data_fingerprint"] == before["data_fingerprint"]
    assert after["sessions_per_part"] == {"train": 6}
    with running_workers(settings, 1):  # the replaced samples' blobs were kept for the run
        run = wait_for(api, run_id, {"succeeded", "failed"})
    assert run["status"] == "succeeded", run["error_message"]


def test_cancel_a_queued_run_at_once(api):
    upload_tiny(api)
    run_id = start_run(api, prediction_window=5, max_iterations=1)
    response = api.post(f"/v1/runs/{run_id}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "canceled"
    assert api.post(f"/v1/runs/{run_id}/cancel").status_code == 409


@pytest.mark.both_databases
def test_cancel_a_running_run_stops_it_within_seconds(api, settings):
    upload_tiny(api, sessions=8, rows=400)
    run_id = start_run(api, prediction_window=2, max_iterations=5000, random_seed=1)
    with running_workers(settings, 1):
        wait_for(
            api, run_id, {"running"}, check=lambda r: api.get(f"/v1/runs/{run_id}/progress").json()
        )
        api.post(f"/v1/runs/{run_id}/cancel")
        run = wait_for(api, run_id, {"canceled"}, timeout_s=10)
    assert run["finished_at"] is not None


def test_a_run_whose_training_raises_ends_failed_with_the_message(api, settings):
    upload_tiny(api)
    run_id = start_run(api, prediction_window=5, max_iterations=1)
    blobs = list(settings.blobs_dir.rglob("*.arrow"))
    for blob in blobs:
        blob.unlink()  # the data vanished from under the run
    with running_workers(settings, 1):
        run = wait_for(api, run_id, {"failed"}, timeout_s=60)
    assert "FileNotFoundError" in run["error_message"] or "No such file" in run["error_message"]
    assert run["exit_code"] == 1
    # The API names the file, never where it lies; the traceback stays in the worker's log.
    assert any(f"…/{blob.name}" in run["error_message"] for blob in blobs), run["error_message"]
    for shown in (api.get(f"/v1/runs/{run_id}").text, api.get("/v1/runs").text):
        assert "error_traceback" not in shown and "Traceback" not in shown
        assert str(settings.home) not in shown and ".venv" not in shown
    assert api.get(f"/v1/runs/{run_id}/metrics").status_code == 409


@pytest.mark.both_databases
@pytest.mark.system
def test_runs_of_an_experiment_sort_by_a_metric(api, settings):
    upload_tiny(api, sessions=8)
    ids = [
        start_run(api, experiment="cmp", prediction_window=5, max_iterations=n, random_seed=3)
        for n in (1, 3)
    ]
    start_run(api, experiment="other", prediction_window=5, max_iterations=1)
    with running_workers(settings, 1):
        for run_id in ids:
            wait_for(api, run_id, {"succeeded"})
    page = api.get("/v1/runs", params={"experiment": "cmp", "sort": "-test_accuracy"}).json()
    assert page["total"] == 2
    accuracies = [r["summary"]["test_accuracy"] for r in page["items"]]
    assert accuracies == sorted(accuracies, reverse=True)
    ascending = api.get("/v1/runs", params={"experiment": "cmp", "sort": "test_log_loss"}).json()
    losses = [r["summary"]["test_log_loss"] for r in ascending["items"]]
    assert losses == sorted(losses)
    assert api.get("/v1/runs", params={"status": "succeeded"}).json()["total"] >= 2


@pytest.mark.system
def test_overfit_check_reports_whether_training_accuracy_reached_099(api, settings):
    upload_tiny(api, sessions=8, rows=40)
    run_id = start_run(
        api,
        prediction_window=4,
        max_iterations=60,
        random_seed=0,
        overfit_check={"sessions": 2},
    )
    assert api.get(f"/v1/runs/{run_id}").json()["sessions_per_part"] == {"train": 2}
    with running_workers(settings, 1):
        run = wait_for(api, run_id, {"succeeded"})
    overfit = run["overfit"]
    assert overfit["sessions"] == 2 and overfit["threshold"] == 0.99
    assert overfit["reached"] == (overfit["train_accuracy"] >= 0.99)
    assert overfit["reached"], overfit
