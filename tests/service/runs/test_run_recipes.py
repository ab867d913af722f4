"""The recipe of a run (issue 15): in its body, its JSON and its parameters; the turicreate
engine trains only its own recipe."""

from __future__ import annotations

from tests.support.runs import upload_tiny

BODY = {"prediction_window": 5, "split": {"strategy": "column"}}


def test_a_torch_run_defaults_to_the_motionlab_recipe_and_shows_it(api):
    upload_tiny(api)
    run = api.post("/v1/runs", json=BODY).json()
    assert run["recipe"] == "motionlab" == run["params"]["recipe"]
    assert (run["params"]["max_iterations"], run["params"]["batch_size"]) == (150, 16)
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
