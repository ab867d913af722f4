"""Each body has a documented limit, refused with a 413 naming its setting before the body
is read whole: run requests and the registry (MOTIONLAB_MAX_REQUEST_BODY_BYTES), JSON rows
and uploads (MOTIONLAB_MAX_JSON_BYTES)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from core.migrate import upgrade
from core.settings import Settings
from tests.support.problems import problem
from tests.support.servers import LiveServer

pytestmark = pytest.mark.integration

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def small(tmp_path) -> Iterator[httpx.Client]:
    settings = Settings(home=tmp_path, max_request_body_bytes=10_000, max_json_bytes=50_000)
    upgrade(settings.resolved_database_url)
    with LiveServer(settings) as live, httpx.Client(base_url=live.url) as client:
        yield client


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/runs"),
        ("POST", "/v1/models/m/versions"),
        ("PUT", "/v1/models/m/aliases/production"),
    ],
)
def test_a_large_json_request_body_is_413_naming_its_setting(small, method, path):
    body = json.dumps({"experiment": "x", "data": {"sessions": ["s"] * 20_000}})
    response = small.request(method, path, content=body, headers=JSON)
    assert "MOTIONLAB_MAX_REQUEST_BODY_BYTES" in problem(response, 413)["detail"]


def test_a_streamed_request_body_without_length_is_cut_at_the_limit(small):
    chunks = (b" " * 4096 for _ in range(100))  # 400 KB, chunked: no Content-Length
    response = small.post("/v1/runs", content=chunks, headers=JSON)
    assert "10000 bytes" in problem(response, 413)["detail"]


@pytest.mark.parametrize("action", ["predict", "evaluate"])
def test_json_rows_over_their_limit_are_413_before_the_run_is_looked_up(small, action):
    rows = json.dumps({"columns": ["x"], "samples": [[0.123456789]] * 10_000})
    response = small.post(f"/v1/runs/any/{action}", content=rows, headers=JSON)
    assert "MOTIONLAB_MAX_JSON_BYTES" in problem(response, 413)["detail"]
