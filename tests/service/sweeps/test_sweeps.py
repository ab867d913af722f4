"""Sweeps over HTTP on a real migrated SQLite home and a live server: one run per grid
combination in one experiment, the best by a validation metric, cancel, limits."""

from __future__ import annotations

import pytest

from service.sweeps.schemas import MAX_SWEEP_RUNS
from tests.support.homes import FAST
from tests.support.runs import running_workers, upload_tiny, wait_for

SPLIT = {"strategy": "session", "valid_fraction": 0.2, "test_fraction": 0.2}


@pytest.fixture
def settings(settings):
    return settings.model_copy(update=FAST)


def create_sweep(api, **body):
    base = {"experiment": "sweep", "run": {"split": SPLIT, "prediction_window": 5}}
    return api.post("/v1/sweeps", json={**base, **body})


@pytest.mark.both_databases
def test_sweep_queues_one_run_per_combination_in_one_experiment(api):
    upload_tiny(api, sessions=24)
    grid = {"recipe": ["motionlab", "turicreate"], "random_seed": [1, 2, 3]}
    response = create_sweep(api, grid=grid)
    assert response.status_code == 201, response.text
    sweep = response.json()
    assert response.headers["Location"] == f"/v1/sweeps/{sweep['id']}"
    combinations = {(run["recipe"], run["params"]["random_seed"]) for run in sweep["runs"]}
    assert combinations == {(r, s) for r in grid["recipe"] for s in grid["random_seed"]}
    assert {run["experiment"] for run in sweep["runs"]} == {"sweep"}
    assert sweep["status_counts"] == {"queued": 6} and sweep["best"] is None
    assert all(run["sessions_per_part"].get("valid") for run in sweep["runs"])
    listed = api.get("/v1/runs", params={"experiment": "sweep"}).json()
    assert listed["total"] == 6
    assert api.get(f"/v1/sweeps/{sweep['id']}").json()["runs"] == sweep["runs"]


def test_cancelling_a_sweep_cancels_its_queued_runs_and_no_other(api):
    upload_tiny(api, sessions=24)
    other = api.post(
        "/v1/runs", json={"experiment": "sweep", "split": SPLIT, "prediction_window": 5}
    ).json()
    sweep = create_sweep(api, grid={"random_seed": [1, 2]}).json()
    response = api.post(f"/v1/sweeps/{sweep['id']}/cancel")
    assert response.status_code == 200, response.text
    assert response.json()["status_counts"] == {"canceled": 2}
    assert api.get(f"/v1/runs/{other['id']}").json()["status"] == "queued"


@pytest.mark.system
def test_sweep_trains_every_combination_and_names_the_best_by_validation(api, settings):
    upload_tiny(api, sessions=24, rows=40)
    body = {"prediction_window": [2, 5]}
    sweep = create_sweep(
        api, run={"split": SPLIT, "max_iterations": 3}, grid=body, metric="validation_log_loss"
    ).json()
    with running_workers(settings, 1):
        for run in sweep["runs"]:
            wait_for(api, run["id"], {"succeeded"})
    sweep = api.get(f"/v1/sweeps/{sweep['id']}").json()
    assert sweep["status_counts"] == {"succeeded": 2}
    losses = {run["id"]: run["summary"]["validation_log_loss"] for run in sweep["runs"]}
    best = min(losses, key=losses.__getitem__)  # log loss: lower is better; never test
    assert sweep["best"]["run_id"] == best and sweep["best"]["value"] == losses[best]
    chosen = next(run for run in sweep["runs"] if run["id"] == best)
    assert sweep["best"]["values"] == {"prediction_window": chosen["params"]["prediction_window"]}


def test_grid_beyond_the_limit_is_refused_and_creates_nothing(api):
    upload_tiny(api, sessions=24)
    seeds = list(range(MAX_SWEEP_RUNS + 1))
    response = create_sweep(api, grid={"random_seed": seeds})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert f"at most {MAX_SWEEP_RUNS} runs" in response.json()["detail"]
    assert api.get("/v1/runs").json()["total"] == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"grid": {"windows": [1, 2]}}, "not run fields"),
        ({"grid": {"prediction_window": []}}, "no values for 'prediction_window'"),
        ({"grid": {"prediction_window": [10, 10]}}, "repeats a value"),
        ({"grid": {"prediction_window": [5, 0]}}, "{'prediction_window': 0} is not a valid run"),
        ({"grid": {"recipe": ["motionlab", "fancy"]}}, "{'recipe': 'fancy'} is not a valid run"),
        (
            {
                "grid": {"random_seed": [1]},
                "run": {"split": {"strategy": "column"}, "prediction_window": 5},
            },
            "validation",
        ),
        ({"grid": {"random_seed": [1]}, "run": {"experiment": "x"}}, "top level"),
    ],
)
def test_bad_sweeps_are_422_problems_that_name_the_fix(api, body, message):
    upload_tiny(api, sessions=24)
    response = create_sweep(api, **body)
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]
    assert api.get("/v1/runs").json()["total"] == 0


def test_unknown_sweep_is_404(api):
    assert api.get("/v1/sweeps/nope").status_code == 404
    assert api.post("/v1/sweeps/nope/cancel").status_code == 404
