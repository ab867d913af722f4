"""A run keeps the data it was frozen with until the run itself is deleted."""

from __future__ import annotations

import pytest

from tests.support.problems import problem
from tests.support.runs import running_workers, start_run, upload_tiny, wait_for
from tests.support.storage import collect_now, store_files, unreferenced_files

pytestmark = pytest.mark.both_databases

RUN = {"prediction_window": 5, "max_iterations": 2, "random_seed": 3}


def delete_all_sessions(api) -> None:
    for item in api.get("/v1/sessions").json()["items"]:
        assert api.delete(f"/v1/sessions/{item['id']}").status_code == 204
    assert api.get("/v1/sessions").json()["total"] == 0


def evaluate_train(api, run_id: str):
    return api.post(f"/v1/runs/{run_id}/evaluate", json={"part": "train"})


def test_finished_run_evaluates_on_train_after_its_sessions_are_deleted(api, settings):
    upload_tiny(api)
    kept, registered = start_run(api, **RUN), start_run(api, **RUN)
    with running_workers(settings, 1):
        for run_id in (kept, registered):
            wait_for(api, run_id, {"succeeded"})
    before = evaluate_train(api, kept).json()
    version = api.post("/v1/models/pinned/versions", json={"run_id": registered})
    assert version.status_code == 201, version.text

    delete_all_sessions(api)
    collect_now(settings)
    after = evaluate_train(api, kept)
    assert after.status_code == 200, after.text
    assert after.json() == before
    assert evaluate_train(api, registered).status_code == 200

    refused = problem(api.delete(f"/v1/runs/{registered}"), 409)
    assert "pinned" in refused["detail"] and "version" in refused["detail"]
    assert api.delete(f"/v1/runs/{kept}").status_code == 204
    problem(api.get(f"/v1/runs/{kept}"), 404)
    problem(api.delete(f"/v1/runs/{kept}"), 404)
    assert not (settings.runs_dir / kept).exists()
    collect_now(settings)
    # the registered run still holds the same samples
    assert store_files(settings) and not unreferenced_files(settings)
    assert evaluate_train(api, registered).status_code == 200


def test_sessions_deleted_while_a_run_is_queued_go_when_the_run_is_deleted(api, settings):
    upload_tiny(api)
    run_id = start_run(api, **RUN)
    delete_all_sessions(api)
    collect_now(settings)
    assert store_files(settings), "the queued run pins its data"
    refused = problem(api.delete(f"/v1/runs/{run_id}"), 409)
    assert "cancel" in refused["detail"]
    assert api.post(f"/v1/runs/{run_id}/cancel").status_code == 200
    assert api.delete(f"/v1/runs/{run_id}").status_code == 204
    collect_now(settings)
    assert not store_files(settings)
    events = api.get("/v1/audit", params={"target": f"runs/{run_id}"}).json()["items"]
    assert [e["action"] for e in events] == ["run.delete"]


def test_a_run_tells_how_far_its_data_has_loaded(api, settings):
    """The first sign of life of a large run: the sessions it loads, of all, before training."""
    from core.db import make_engine, make_session_factory, unit_of_work
    from core.storage import pack_store
    from workers.run_data import load_run_parts

    upload_tiny(api, sessions=6)
    run_id = start_run(api, **RUN, split={"strategy": "column"})  # 4 train, 2 test
    sessions = api.get(f"/v1/runs/{run_id}").json()["sessions_per_part"]
    reports: list[tuple[int, int]] = []
    engine = make_engine(settings.resolved_database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as db:
            parts = load_run_parts(
                db,
                pack_store(settings),
                run_id,
                features=["x", "y"],
                target="activity",
                on_loaded=lambda *report: reports.append(report),
            )
    finally:
        engine.dispose()
    train, test, train_rows = sessions["train"], sessions["test"], parts["train"].num_rows
    assert (train, test) == (4, 2)
    assert reports == [(4, train_rows), (6, train_rows + parts["test"].num_rows)]


def test_a_run_shows_that_it_prepares_before_reading_its_data(api, settings, tmp_path):
    """The run's process says so (live_progress: preparing, 0 of its 6 sessions) before it
    reads a byte of its data, then trains: what a large run shows within a second."""
    from core.db import make_engine, make_session_factory, unit_of_work
    from core.models import Run
    from core.runs import claim_next_run
    from core.storage import pack_store
    from workers.execute import _execute

    upload_tiny(api, sessions=6)
    run_id = start_run(api, **RUN)
    engine = make_engine(settings.resolved_database_url)
    factory = make_session_factory(engine)
    seen: list[dict | None] = []

    class WatchedStore(type(pack_store(settings))):  # the real store, watched as it reads
        def read_columns(self, locations, names):
            with unit_of_work(factory) as db:
                seen.append(db.get_one(Run, run_id).live_progress)
            return super().read_columns(locations, names)

    try:
        with unit_of_work(factory) as db:
            assert claim_next_run(db, worker_id="test-worker") == run_id
        real = pack_store(settings)
        store = WatchedStore(real.objects, prefix=real.prefix)
        result = _execute(run_id, tmp_path, factory, store)
    finally:
        engine.dispose()
    assert seen and seen[0] is not None
    assert {k: seen[0][k] for k in ("phase", "sessions_loaded", "sessions_total")} == {
        "phase": "preparing",
        "sessions_loaded": 0,
        "sessions_total": 6,
    }
    assert result["metrics"]["train"]["accuracy"] >= 0  # and then it trained
