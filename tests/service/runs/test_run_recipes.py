"""The recipe of a run (issue 15): in its body, its JSON and its parameters; the turicreate
engine trains only its own recipe."""

from __future__ import annotations

from tests.support.runs import upload_tiny

BODY = {"prediction_window": 5, "split": {"strategy": "column"}}


def test_a_torch_run_defaults_to_the_motionlab_recipe_and_shows_it(api):
    upload_tiny(api)
    run = api.post("/v1/runs", json=BODY).json()
    assert run["recipe"] == "motionlab" == run["params"]["recipe"]
    # 4 training sessions of one chunk each: one step an epoch, so the 400-step budget is 400
    # epochs, frozen with the run like every other field.
    assert (run["params"]["max_iterations"], run["params"]["batch_size"]) == (400, 16)
    listed = api.get("/v1/runs").json()["items"]
    assert [item["recipe"] for item in listed] == ["motionlab"]


def test_the_turicreate_recipe_keeps_turi_creates_defaults(api):
    upload_tiny(api)
    run = api.post("/v1/runs", json={**BODY, "recipe": "turicreate"}).json()
    assert run["recipe"] == "turicreate"
    assert (run["params"]["max_iterations"], run["params"]["batch_size"]) == (10, 32)


def test_the_turicreate_engine_refuses_another_recipe_with_a_422(api):
    upload_tiny(api)
    response = api.post("/v1/runs", json={**BODY, "engine": "turicreate", "recipe": "motionlab"})
    assert response.status_code == 422
    assert "trains only the turicreate recipe" in response.json()["detail"]
    assert api.get("/v1/runs").json()["total"] == 0


def test_an_unknown_recipe_is_a_422_naming_the_choices(api):
    upload_tiny(api)
    response = api.post("/v1/runs", json={**BODY, "recipe": "fancy"})
    assert response.status_code == 422
    assert "motionlab" in response.text and "turicreate" in response.text


def test_a_motionlab_run_trains_fewer_epochs_on_more_data_and_as_many_as_asked(api):
    upload_tiny(api, sessions=66, rows=400)  # 64 training sessions of 4 chunks (window 5)
    run = api.post("/v1/runs", json=BODY).json()
    assert run["params"]["max_iterations"] == 25  # 256 chunks: 16 steps an epoch, 400 steps
    asked = api.post("/v1/runs", json={**BODY, "max_iterations": 7, "batch_size": 8}).json()
    assert (asked["params"]["max_iterations"], asked["params"]["batch_size"]) == (7, 8)
    bigger_batches = api.post("/v1/runs", json={**BODY, "batch_size": 64}).json()
    assert bigger_batches["params"]["max_iterations"] == 100  # 4 steps an epoch
