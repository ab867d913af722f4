"""Two projects train and register a model of the same name, each its own; a project holding a
registered model cannot be deleted (409, with the reason); deleting another project removes
what it holds and nothing of the projects that share its samples (one blob, by content)."""

from __future__ import annotations

import numpy as np
import pytest

from core.blobs import collect_garbage
from core.db import make_engine, make_session_factory
from core.storage import pack_store
from tests.support.live_stream import assert_same_windows, open_stream, stream_frames, ws_url
from tests.support.runs import running_workers, start_run, upload_tiny, wait_for

MODEL = "/models/GestureClassifier"


class InProject:
    """An httpx client whose /v1/… paths go to one project's routes."""

    def __init__(self, api, project: str):
        self.api, self.prefix = api, f"/v1/projects/{project}"

    def __getattr__(self, method):
        call = getattr(self.api, method)
        return lambda path, **kw: call(self.prefix + path.removeprefix("/v1"), **kw)


@pytest.mark.integration  # a live server and worker processes on SQLite
def test_each_project_registers_its_own_model_of_one_name_and_keeps_it(settings, server, api):
    assert api.post("/v1/projects", json={"name": "gestures"}).status_code == 201
    gestures = InProject(api, "gestures")
    runs = {}
    with running_workers(settings):
        for name, client in (("default", api), ("gestures", gestures)):
            upload_tiny(client, sessions=6, rows=30)
            runs[name] = start_run(client, prediction_window=5, max_iterations=1)
        for name, client in (("default", api), ("gestures", gestures)):
            wait_for(client, runs[name], {"succeeded"})
    for name, client in (("default", api), ("gestures", gestures)):
        version = client.post(f"/v1{MODEL}/versions", json={"run_id": runs[name]})
        assert version.status_code == 201 and version.json()["version"] == 1, version.text
        client.put(f"/v1{MODEL}/aliases/production", json={"version": 1}).raise_for_status()
    for name, client in (("default", api), ("gestures", gestures)):
        assert client.get(f"/v1{MODEL}/production").json()["run_id"] == runs[name]
        assert client.get(f"/v1{MODEL}/production/model.mlmodel").status_code == 200
    for name, prefix in (("default", "/v1"), ("gestures", gestures.prefix)):
        ready, streamed, expected = stream_and_predict(server.url, api, f"{prefix}{MODEL}")
        assert ready["run_id"] == runs[name]  # each project's live stream is its own model's
        assert_same_windows(streamed, expected)
    # A run of one project is not another's: registering it there finds no such run.
    foreign = gestures.post("/v1/models/Other/versions", json={"run_id": runs["default"]})
    assert foreign.status_code == 404
    refused = api.delete("/v1/projects/gestures")
    assert refused.status_code == 409 and "GestureClassifier" in refused.json()["detail"]
    assert gestures.get(f"/v1{MODEL}/production").json()["run_id"] == runs["gestures"]
    default_refused = api.delete("/v1/projects/default")
    assert default_refused.status_code == 409


def stream_and_predict(url: str, api, model: str) -> tuple[dict, list[dict], dict]:
    """A recording streamed to `model`'s production alias (WebSocket), and what predict answers
    for it per window."""
    rows = np.random.default_rng(3).normal(1.5, 2, size=(23, 2)).round(6)
    answer = api.post(
        f"{model}/production/predict",
        content=("x,y\n" + "".join(f"{x},{y}\n" for x, y in rows)).encode(),
        headers={"Content-Type": "text/csv"},
        params={"output_frequency": "per_window", "output_type": "probability_vector"},
    )
    assert answer.status_code == 200, answer.text
    predictions = answer.json()["predictions"]
    best = np.array(predictions["probability_vector"]).argmax(axis=1)
    expected = {**predictions, "class": [answer.json()["classes"][i] for i in best]}
    socket, ready = open_stream(ws_url(url, f"{model}/production/live"))
    with socket:
        streamed = stream_frames(socket, [{"rows": rows.tolist()}])
    return ready, streamed, expected


@pytest.mark.both_databases
def test_deleting_a_project_leaves_the_samples_other_projects_share(settings, api):
    upload_tiny(api, sessions=4, rows=30)
    assert api.post("/v1/projects", json={"name": "scratch"}).status_code == 201
    scratch = InProject(api, "scratch")
    upload_tiny(scratch, sessions=4, rows=30)  # the same content: the same blobs
    assert scratch.get("/v1/sessions").json()["total"] == 4
    assert api.delete("/v1/projects/scratch").status_code == 204
    assert scratch.get("/v1/sessions").status_code == 404
    assert [p["name"] for p in api.get("/v1/projects").json()] == ["default"]
    factory = make_session_factory(make_engine(settings.resolved_database_url))
    collect_garbage(factory, pack_store(settings), grace_period_s=0)
    for session in api.get("/v1/sessions").json()["items"]:
        assert api.get(f"/v1/sessions/{session['id']}/samples").status_code == 200
    # Re-created, the name starts empty: nothing of the deleted project comes back.
    assert api.post("/v1/projects", json={"name": "scratch"}).status_code == 201
    assert scratch.get("/v1/sessions").json()["total"] == 0
    assert scratch.get("/v1/audit").json()["total"] == 0


def test_a_token_of_a_deleted_project_does_not_come_back_with_a_new_project_of_its_name(api):
    admin = api.post("/v1/tokens", json={"name": "admin", "scopes": ["admin"]}).json()["token"]
    api.headers["Authorization"] = f"Bearer {admin}"
    assert api.post("/v1/projects", json={"name": "scratch"}).status_code == 201

    def token(name: str, projects: list[str]) -> dict[str, str]:
        body = {"name": name, "scopes": ["read"], "projects": projects}
        created = api.post("/v1/tokens", json=body)
        assert created.status_code == 201, created.text
        return {"Authorization": f"Bearer {created.json()['token']}"}

    only_scratch = token("only-scratch", ["scratch"])
    both = token("both", ["scratch", "default"])
    assert api.get("/v1/projects/scratch/sessions", headers=only_scratch).status_code == 200
    assert api.delete("/v1/projects/scratch").status_code == 204
    assert api.post("/v1/projects", json={"name": "scratch"}).status_code == 201

    assert api.get("/v1/projects/scratch/sessions", headers=only_scratch).status_code == 401
    assert api.get("/v1/projects/scratch/sessions", headers=both).status_code == 404
    assert api.get("/v1/sessions", headers=both).status_code == 200
    listed = {t["name"]: t for t in api.get("/v1/tokens", params={"include_revoked": True}).json()}
    assert listed["only-scratch"]["revoked_at"] is not None
    assert listed["both"]["projects"] == ["default"]
