"""Registry requests that cannot be served answer a precise 404 / 409 / 422."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def model(served):
    """A model with one version (the succeeded run) and the alias production."""
    with served.client() as api:
        assert api.post("/v1/models/errors-model/versions", json={"run_id": served.run_id})
        api.put("/v1/models/errors-model/aliases/production", json={"version": 1})
    return "errors-model"


def test_registering_an_unknown_run_is_404(served_api):
    response = served_api.post("/v1/models/m/versions", json={"run_id": "nope"})
    assert response.status_code == 404 and "'nope'" in response.json()["detail"]
    assert served_api.get("/v1/models/m").status_code == 404  # nothing was created


def test_registering_a_run_that_has_not_succeeded_is_409(served, served_api):
    response = served_api.post("/v1/models/m/versions", json={"run_id": served.queued_run_id})
    assert response.status_code == 409 and "queued" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/v1/models/unknown-model", ["not registered", "POST /v1/models/unknown-model/versions"]),
        ("/v1/models/unknown-model/latest/model.mlmodel", ["not registered"]),
        ("/v1/models/errors-model/staging/model.mlmodel", ["no alias 'staging'", "production"]),
        ("/v1/models/errors-model/7/model.mlmodel", ["no version 7", "versions 1 to 1"]),
    ],
)
def test_unknown_model_alias_or_version_is_404(served_api, model, path, words):
    response = served_api.get(path)
    assert response.status_code == 404, response.text
    for word in words:
        assert word in response.json()["detail"]


def test_predict_by_an_unknown_alias_is_404(served_api, model):
    response = served_api.post(
        f"/v1/models/{model}/staging/predict",
        content="accelX,accelY,accelZ,rotX,rotY,rotZ\n1,2,3,4,5,6\n",
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 404 and "no alias 'staging'" in response.json()["detail"]


@pytest.mark.parametrize(
    ("alias", "body", "status", "words"),
    [
        ("latest", {"version": 1}, 422, ["implicit"]),
        ("2fast", {"version": 1}, 422, ["alias"]),
        ("staging", {"version": 9}, 404, ["no version 9"]),
        ("staging", {"version": 0}, 422, ["version"]),
        ("staging", {}, 422, ["version"]),
    ],
)
def test_bad_alias_update_is_rejected(served_api, model, alias, body, status, words):
    response = served_api.put(f"/v1/models/{model}/aliases/{alias}", json=body)
    assert response.status_code == status, response.text
    for word in words:
        assert word in response.json()["detail"]


def test_alias_on_an_unknown_model_is_404(served_api):
    response = served_api.put("/v1/models/ghost/aliases/production", json={"version": 1})
    assert response.status_code == 404 and "not registered" in response.json()["detail"]


def test_deleting_an_unknown_alias_is_404(served_api, model):
    response = served_api.delete(f"/v1/models/{model}/aliases/staging")
    assert response.status_code == 404 and "aliases: production" in response.json()["detail"]


def test_invalid_model_name_is_422(served, served_api):
    response = served_api.post("/v1/models/bad name!/versions", json={"run_id": served.run_id})
    assert response.status_code == 422 and "name" in response.json()["detail"]
