"""Each invalid run request is a 422 that says what is wrong; nothing is queued."""

from __future__ import annotations

import pytest

from tests.service.runs.conftest import upload_tiny

CASES = [
    ("unknown feature", {"features": ["x", "accelQ"]}, ["unknown feature 'accelQ'"]),
    ("unknown target", {"target": "mood"}, ["unknown target 'mood'", "activity"]),
    ("target without values", {"target": "subject", "data": {"sessions": ["t000"]}}, ["class"]),
    (
        "one class in training",
        {"data": {"activities": ["a"]}},
        ["only 1 class", "at least 2"],
    ),
    ("no session matches", {"data": {"activities": ["swim"]}}, ["no session matches"]),
    ("unknown session id", {"data": {"sessions": ["t000", "nope"]}}, ["'nope'"]),
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
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
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
        assert response.status_code == 404, path
        assert response.json()["error"] == "NotFound"
