"""Per-project limits: the bytes of samples a project's sessions hold, and its queued runs.
Going over is a 409 quota-exceeded problem that stores nothing; each project counts its own."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from core.storage import pack_store
from tests.support.runs import upload_tiny
from tests.support.servers import LiveServer

pytestmark = pytest.mark.integration  # a live server on SQLite


@pytest.fixture
def limited(settings) -> Iterator[httpx.Client]:
    settings = settings.model_copy(
        update={"project_max_stored_bytes": 20_000, "project_max_queued_runs": 1}
    )
    with LiveServer(settings) as live, httpx.Client(base_url=live.url, timeout=60) as api:
        assert api.post("/v1/projects", json={"name": "other"}).status_code == 201
        yield api


def session(session_id: str, rows: int, offset: float = 0.0) -> dict:
    samples = [[offset + i, i % 7] for i in range(rows)]
    return {"id": session_id, "activity": "walk", "columns": ["x", "y"], "samples": samples}


def test_an_upload_over_the_project_s_stored_bytes_stores_nothing(limited, settings):
    api = limited
    assert api.post("/v1/sessions", json={"sessions": [session("small", 50)]}).status_code == 201
    packs = {p.pack_id for p in pack_store(settings).pack_files()}
    over = api.post("/v1/sessions", json={"sessions": [session("big", 4000, 0.5)]})
    assert over.status_code == 409, over.text
    problem = over.json()
    assert problem["type"] == "urn:motionlab:problem:quota-exceeded"
    assert problem["limit"] == 20_000 and "MOTIONLAB_PROJECT_MAX_STORED_BYTES" in problem["detail"]
    assert api.get("/v1/sessions/big").status_code == 404
    assert {p.pack_id for p in pack_store(settings).pack_files()} == packs  # no file left
    # Another project counts its own bytes: the same small session fits there.
    other = api.post("/v1/projects/other/sessions", json={"sessions": [session("small", 50)]})
    assert other.status_code == 201


def test_a_run_over_the_project_s_queued_runs_is_refused(limited):
    api = limited
    for prefix in ("/v1", "/v1/projects/other"):
        upload_tiny(_Prefixed(api, prefix), sessions=4, rows=20)
    body = {"prediction_window": 5, "max_iterations": 1}
    first = api.post("/v1/runs", json=body)
    assert first.status_code == 202
    refused = api.post("/v1/runs", json=body)
    assert refused.status_code == 409 and refused.json()["limit"] == 1, refused.text
    assert "MOTIONLAB_PROJECT_MAX_QUEUED_RUNS" in refused.json()["detail"]
    assert api.get("/v1/runs").json()["total"] == 1
    valid = [{**session(f"v-{label}", 20), "activity": label, "split": "valid"} for label in "ab"]
    assert api.post("/v1/projects/other/sessions", json={"sessions": valid}).is_success
    sweep = {"experiment": "s", "run": body, "grid": {"batch_size": [8, 16]}}
    sweep["metric"] = "validation_accuracy"
    swept = api.post("/v1/projects/other/sweeps", json=sweep)
    assert swept.status_code == 409, swept.text  # 2 runs > 1
    queued = api.post("/v1/projects/other/runs", json=body)
    assert queued.status_code == 202
    assert queued.headers["Location"] == f"/v1/projects/other/runs/{queued.json()['id']}"


class _Prefixed:
    """POSTs of /v1/… to another project's routes."""

    def __init__(self, api: httpx.Client, prefix: str):
        self.api, self.prefix = api, prefix

    def post(self, path: str, **kwargs) -> httpx.Response:
        return self.api.post(self.prefix + path.removeprefix("/v1"), **kwargs)
