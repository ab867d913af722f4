"""Each invalid run request is a 422 that says what is wrong; nothing is queued."""

from __future__ import annotations

import json

import httpx
import pytest

from core.migrate import upgrade
from core.settings import Settings
from tests.support.problems import problem
from tests.support.runs import upload_tiny
from tests.support.servers import LiveServer
from tests.support.wide import CSV, wide_csv, wide_feature_names, wide_run_requests

CASES = [
    (
        "unknown feature",
        {"features": ["x", "accelQ"]},
        ["no selected session has all of the features", "'t000' lacks 'accelQ'"],
    ),
    ("unknown target", {"target": "mood"}, ["unknown target 'mood'", "activity"]),
    ("target without values", {"target": "subject", "data": {"sessions": ["t000"]}}, ["class"]),
    (
        "one class in training",
        {"data": {"activities": ["a"]}},
        ["only 1 class", "at least 2"],
    ),
    ("no session matches", {"data": {"activities": ["swim"]}}, ["no session matches"]),
    ("unknown session id", {"data": {"sessions": ["t000", "nope"]}}, ["'nope'"]),
    (
        "unknown session id among filters",
        {"data": {"sessions": ["t000", "nope"], "activities": ["a"]}},
        ["unknown session id", "'nope'"],
    ),
    (
        "window longer than every session",
        {"prediction_window": 21},
        ["longer than every selected session", "at most 20"],
    ),
    ("feature name too long", {"features": ["f" * 129]}, ["features.0"]),
    ("window too large", {"prediction_window": 401}, ["prediction_window"]),
    ("window zero", {"prediction_window": 0}, ["prediction_window"]),
    (
        "split leaves training empty",
        {"data": {"splits": ["test"]}, "split": {"strategy": "column"}},
        ["training part empty"],
    ),
    (
        "fractions leave no training",
        {"split": {"strategy": "session", "valid_fraction": 0.5, "test_fraction": 0.5}},
        ["below 1"],
    ),
    ("unknown engine", {"engine": "keras"}, ["unknown engine 'keras'"]),
    ("unknown field", {"learning_rate": 0.1}, ["learning_rate"]),
    ("bad sort", None, ["cannot sort"]),
]


@pytest.mark.parametrize(("body", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_run_request_is_a_precise_422(api, body, words):
    upload_tiny(api, sessions=6)
    if body is None:
        response = api.get("/v1/runs", params={"sort": "-test accuracy;drop"})
    else:
        response = api.post("/v1/runs", json={"prediction_window": 5, **body})
    detail = problem(response, 422)["detail"]
    for word in words:
        assert word in detail, detail
    assert api.get("/v1/runs").json()["total"] == 0


def test_engine_that_is_not_available_says_how_to_enable_it(api, monkeypatch):
    from workers.engines.base import EngineStatus
    from workers.engines.torch.engine import TorchEngine

    # The boundary we do not own here: whether a GPU / interpreter exists on this host.
    monkeypatch.setattr(
        TorchEngine,
        "status",
        lambda self: EngineStatus("torch", False, None, None, "install torch==2.13.0"),
    )
    upload_tiny(api, sessions=6)
    response = api.post("/v1/runs", json={"prediction_window": 5})
    assert response.status_code == 422
    assert "not available" in response.json()["detail"]
    assert "install torch" in response.json()["detail"]


def test_unknown_run_is_404(api):
    for path in ("", "/progress", "/metrics", "/model", "/events"):
        response = api.get(f"/v1/runs/nope{path}")
        problem(response, 404)


@pytest.mark.parametrize(
    ("path", "query", "words"),
    [
        ("/v1/runs", {"sort": "-test_acc"}, ["cannot sort", "-test_accuracy"]),
        ("/v1/runs", {"status": "finished"}, ["status"]),
        ("/v1/sessions", {"split": "bogus"}, ["split"]),
    ],
)
def test_a_typo_in_a_list_filter_is_a_422_not_an_empty_page(api, path, query, words):
    detail = problem(api.get(path, params=query), 422)["detail"]
    for word in words:
        assert word in detail, detail


def test_sessions_that_disagree_on_features_train_on_those_they_share_and_say_so(api):
    upload_tiny(api, sessions=6)  # columns x, y
    odd = {"id": "j1", "activity": "a", "columns": ["x"], "samples": [[1.0]] * 20}
    assert api.post("/v1/sessions", json={"sessions": [odd]}).status_code == 201
    response = api.post("/v1/runs", json={"prediction_window": 5})
    assert response.status_code == 202, response.text
    assert response.json()["params"]["features"] == ["x"]  # never shrunk silently:
    warning = response.json()["warnings"][0]
    assert "different channels" in warning and "share [x]" in warning, warning
    assert "unused: y (6 sessions)" in warning and '"features"' in warning, warning
    assert any("different sets of channels" in w for w in api.get("/v1/stats").json()["warnings"])
    lone = {"id": "j2", "activity": "b", "columns": ["z"], "samples": [[1.0]] * 20}
    assert api.post("/v1/sessions", json={"sessions": [lone]}).status_code == 201
    detail = problem(api.post("/v1/runs", json={"prediction_window": 5}), 422)["detail"]
    assert "share no feature" in detail and "[z]" in detail and "[x, y]" in detail, detail


def test_data_traps_become_warnings_on_the_run_its_events_and_stats(api, server):
    sessions = [
        {
            "id": f"r{i}",
            "activity": "ab"[i % 2],
            "sample_rate_hz": 50 if i == 0 else 10,
            "columns": ["x"],
            "samples": [[float(i % 2)]] * (3 if i == 1 else 20),
        }
        for i in range(6)
    ]
    assert api.post("/v1/sessions", json={"sessions": sessions}).status_code == 201
    response = api.post("/v1/runs", json={"prediction_window": 5})
    assert response.status_code == 202, response.text
    warnings = response.json()["warnings"]
    assert len(warnings) == 2, warnings
    assert "shorter than prediction_window 5" in warnings[0] and "r1: 3 rows" in warnings[0]
    assert "different sample rates" in warnings[1] and "'r0'" in warnings[1]
    run_id = response.json()["id"]
    assert api.get(f"/v1/runs/{run_id}").json()["warnings"] == warnings
    with api.stream("GET", f"/v1/runs/{run_id}/events") as stream:
        lines = stream.iter_lines()
        assert next(lines) == "event: status"
        assert json.loads(next(lines).removeprefix("data: "))["warnings"] == warnings
    assert any("different sample rates" in w for w in api.get("/v1/stats").json()["warnings"])


@pytest.mark.integration
# Quadratic resolution took minutes here (10 sessions x 20,000 x 20,000 look-ups): the timeout
# fails it with its stack; the time itself is measured by tests/benchmarks/bench_wide_runs.py.
@pytest.mark.timeout(180)
def test_runs_over_20000_feature_columns_resolve_them(tmp_path):
    settings = Settings(home=tmp_path, max_features=20_000, workers=0)
    upgrade(settings.resolved_database_url)
    names = wide_feature_names(20_000)
    with LiveServer(settings) as live, httpx.Client(base_url=live.url, timeout=60) as client:
        upload = client.post("/v1/sessions", content=wide_csv(names), headers=CSV)
        assert upload.status_code == 201, upload.text
        statuses = [
            client.post("/v1/runs", json={"prediction_window": 2, **request}).status_code
            for request in wide_run_requests(names)
        ]
        assert statuses == [202, 202, 422]
