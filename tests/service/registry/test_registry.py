"""Register runs as model versions, point aliases at them, fetch and predict by reference."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.basicmotions import basicmotions_rows, csv_bytes

CSV = {"Content-Type": "text/csv"}


def register(api, name: str, run_id: str) -> int:
    response = api.post(f"/v1/models/{name}/versions", json={"run_id": run_id})
    assert response.status_code == 201, response.text
    assert response.json()["run_id"] == run_id and response.json()["model_name"] == name
    return response.json()["version"]


def set_alias(api, name: str, alias: str, version: int) -> dict:
    response = api.put(f"/v1/models/{name}/aliases/{alias}", json={"version": version})
    assert response.status_code == 200, response.text
    return response.json()


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@pytest.mark.both_databases
def test_promote_fetch_by_alias_then_move_the_alias(served, served_api):
    api, name = served_api, "GestureClassifier"
    assert register(api, name, served.run_id) == 1
    assert register(api, name, served.other_run_id) == 2
    alias = set_alias(api, name, "production", 1)
    assert alias["version"] == 1
    assert alias["updated_at"].endswith(("Z", "+00:00")), alias  # UTC, like every timestamp
    run_file = api.get(f"/v1/runs/{served.run_id}/model.mlmodel").content
    other_file = api.get(f"/v1/runs/{served.other_run_id}/model.mlmodel").content
    assert sha256(run_file) != sha256(other_file)

    url = f"/v1/models/{name}/production/model.mlmodel"
    first = api.get(url)
    assert first.status_code == 200
    assert sha256(first.content) == sha256(run_file)
    assert first.headers["etag"] == f'"{sha256(run_file)}"'
    assert 'filename="GestureClassifier.mlmodel"' in first.headers["content-disposition"]
    unchanged = api.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""

    set_alias(api, name, "production", 2)
    moved = api.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert moved.status_code == 200  # the old ETag no longer matches: CI gets the new model
    assert sha256(moved.content) == sha256(other_file)
    assert api.get(f"/v1/models/{name}/latest/model.mlmodel").content == other_file
    assert api.get(f"/v1/models/{name}/1/model.mlmodel").content == run_file


def test_head_on_downloads_answers_like_get_without_the_body(served, served_api):
    """`curl -I`: the status and headers of GET (ETag, length, file name), no body; 304 when
    the ETag matches; 404 as GET for what is not there."""
    api, name = served_api, "HeadModel"
    set_alias(api, name, "production", register(api, name, served.run_id))
    for url in (
        f"/v1/runs/{served.run_id}/model.mlmodel",
        f"/v1/runs/{served.run_id}/model",
        f"/v1/models/{name}/production/model.mlmodel",
        f"/v1/models/{name}/production/model.onnx",
    ):
        got = api.get(url)
        head = api.head(url)
        assert head.status_code == 200, (url, head.status_code)
        assert head.content == b""
        for header in ("etag", "content-length", "content-type", "content-disposition"):
            assert head.headers[header] == got.headers[header], (url, header)
        unchanged = api.head(url, headers={"If-None-Match": got.headers["etag"]})
        assert unchanged.status_code == 304, url
    assert api.head(f"/v1/models/{name}/staging/model.mlmodel").status_code == 404
    assert api.head("/v1/runs/nope/model.mlmodel").status_code == 404


def test_model_detail_lists_versions_with_runs_test_metrics_and_aliases(served, served_api):
    api, name = served_api, "detail-model"
    register(api, name, served.run_id)
    register(api, name, served.other_run_id)
    set_alias(api, name, "staging", 2)
    set_alias(api, name, "production", 1)

    detail = api.get(f"/v1/models/{name}").json()
    assert detail["name"] == name
    assert detail["aliases"] == {"production": 1, "staging": 2}
    assert [v["version"] for v in detail["versions"]] == [2, 1]
    newest, oldest = detail["versions"]
    assert newest["aliases"] == ["staging"] and oldest["aliases"] == ["production"]
    assert oldest["run"]["id"] == served.run_id and oldest["run"]["status"] == "succeeded"
    assert oldest["run"]["prediction_window"] == 10 and len(oldest["run"]["features"]) == 6
    metrics = api.get(f"/v1/runs/{served.run_id}/metrics").json()["test"]
    assert oldest["test_metrics"] == metrics

    listed = {m["name"]: m for m in api.get("/v1/models").json()}
    assert listed[name]["versions"] == 2 and listed[name]["latest_version"] == 2
    assert listed[name]["aliases"] == {"production": 1, "staging": 2}


def test_predict_by_alias_answers_like_the_run_and_names_the_version(served, served_api):
    api, name = served_api, "predict-model"
    register(api, name, served.other_run_id)
    set_alias(api, name, "production", 1)
    body = csv_bytes(basicmotions_rows(["test-021", "test-022"]))

    by_alias = api.post(
        f"/v1/models/{name}/production/predict",
        content=body,
        headers=CSV,
        params={"output_frequency": "per_window", "output_type": "probability_vector"},
    )
    assert by_alias.status_code == 200, by_alias.text
    by_run = api.post(
        f"/v1/runs/{served.other_run_id}/predict",
        content=body,
        headers=CSV,
        params={"output_frequency": "per_window", "output_type": "probability_vector"},
    ).json()
    assert by_alias.json()["model"] == {"name": name, "version": 1}
    assert by_alias.json()["run_id"] == served.other_run_id
    assert by_alias.json()["predictions"] == by_run["predictions"]


def test_evaluate_by_alias_answers_like_the_run_and_names_the_version(served, served_api):
    api, name = served_api, "evaluate-model"
    register(api, name, served.run_id)
    register(api, name, served.other_run_id)
    set_alias(api, name, "production", 2)
    selection = {"splits": ["test"]}

    by_alias = api.post(f"/v1/models/{name}/production/evaluate", json=selection)
    assert by_alias.status_code == 200, by_alias.text
    by_run = api.post(f"/v1/runs/{served.other_run_id}/evaluate", json=selection).json()
    assert by_alias.json()["model"] == {"name": name, "version": 2}
    assert by_alias.json()["run_id"] == served.other_run_id
    assert by_alias.json()["metrics"] == by_run["metrics"]
    missing = api.post(f"/v1/models/{name}/staging/evaluate", json=selection)
    assert missing.status_code == 404 and "staging" in missing.json()["detail"]


@pytest.mark.both_databases
def test_concurrent_registrations_are_serialised_and_idempotent(served, served_api):
    runs = [served.run_id, served.other_run_id]

    def register_once(i):
        with served.client() as client:
            return runs[i % 2], register(client, "busy-model", runs[i % 2])

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(register_once, range(16)))
    by_run = {run_id: {version for run, version in answers if run == run_id} for run_id in runs}
    assert sorted(v for versions in by_run.values() for v in versions) == [1, 2]  # one each
    detail = served_api.get("/v1/models/busy-model").json()
    assert sorted((v["version"], v["run_id"]) for v in detail["versions"]) == sorted(
        (next(iter(by_run[run_id])), run_id) for run_id in runs
    )


def test_registering_the_same_run_again_answers_its_existing_version(served, served_api):
    api, name = served_api, "idempotent-model"
    assert register(api, name, served.run_id) == 1
    assert register(api, name, served.other_run_id) == 2
    assert register(api, name, served.run_id) == 1  # not a third version
    assert [v["version"] for v in api.get(f"/v1/models/{name}").json()["versions"]] == [2, 1]


def test_deleted_alias_no_longer_resolves(served, served_api):
    api, name = served_api, "short-lived"
    register(api, name, served.run_id)
    set_alias(api, name, "canary", 1)
    assert api.delete(f"/v1/models/{name}/aliases/canary").status_code == 204
    gone = api.get(f"/v1/models/{name}/canary/model.mlmodel")
    assert gone.status_code == 404 and "no alias 'canary'" in gone.json()["detail"]
    assert api.get(f"/v1/models/{name}").json()["aliases"] == {}
