"""Both engines side by side over HTTP: the real Turi Create 6.4.1 and the torch engine."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from tests.support.live_stream import (
    as_columns,
    open_stream,
    predict_per_window,
    recording,
    stream_frames,
    ws_url,
)
from tests.support.runs import running_workers, start_run, upload_basicmotions, wait_for

pytestmark = pytest.mark.turicreate  # system: the real Turi Create trains
PARAMS = {
    "prediction_window": 10,
    "max_iterations": 20,
    "random_seed": 42,
    "split": {"strategy": "column"},
    "experiment": "engines",
}


def test_both_engines_train_basicmotions_with_the_same_metric_keys(api, settings):
    upload_basicmotions(api)
    engines = {e["name"]: e for e in api.get("/v1/engines").json()}
    assert engines["turicreate"]["available"] and engines["turicreate"]["version"] == "6.4.1"
    assert engines["torch"]["available"] and engines["torch"]["device"] in ("cpu", "cuda")
    tc_id = start_run(api, engine="turicreate", **PARAMS)
    torch_id = start_run(api, engine="torch", **PARAMS)
    with running_workers(settings, 2):
        tc = wait_for(api, tc_id, {"succeeded", "failed"}, timeout_s=300)
        torch_run = wait_for(api, torch_id, {"succeeded", "failed"}, timeout_s=300)
    assert tc["status"] == "succeeded", tc["error_message"]
    assert torch_run["status"] == "succeeded", torch_run["error_message"]
    assert tc["versions"]["turicreate"] == "6.4.1" and tc["versions"]["python_turicreate"]

    tc_metrics = api.get(f"/v1/runs/{tc_id}/metrics").json()
    torch_metrics = api.get(f"/v1/runs/{torch_id}/metrics").json()
    assert set(tc_metrics) == set(torch_metrics) == {"train", "test"}
    for part in ("train", "test"):
        assert set(tc_metrics[part]) == set(torch_metrics[part])
    tc_accuracy, torch_accuracy = tc_metrics["test"]["accuracy"], torch_metrics["test"]["accuracy"]
    assert tc_accuracy > 0.7 and abs(tc_accuracy - torch_accuracy) <= 0.15
    assert len(api.get(f"/v1/runs/{tc_id}/progress").json()) == 20

    mlmodel = api.get(f"/v1/runs/{tc_id}/model.mlmodel")
    assert mlmodel.status_code == 200
    assert mlmodel.headers["etag"] == f'"{hashlib.sha256(mlmodel.content).hexdigest()}"'
    native = api.get(f"/v1/runs/{tc_id}/model")
    assert native.status_code == 200 and native.content[:2] == b"PK"  # the zipped model dir

    # Served like a torch run: predictions (through the Python 3.8 runner) and evaluation.
    samples = api.get("/v1/sessions/test-003/samples").content
    answer = api.post(
        f"/v1/runs/{tc_id}/predict",
        content=samples,
        headers={"Content-Type": "text/csv"},
        params={"output_frequency": "per_window", "output_type": "probability_vector"},
    )
    assert answer.status_code == 200, answer.text
    windows = answer.json()["predictions"]
    assert windows["window"] == list(range(10)) and windows["num_rows"] == [10] * 10
    assert all(abs(sum(v) - 1) < 1e-6 for v in windows["probability_vector"])
    evaluated = api.post(f"/v1/runs/{tc_id}/evaluate", json={"splits": ["test"]})
    assert evaluated.status_code == 200, evaluated.text
    for name in ("accuracy", "log_loss", "f1_score", "auc"):
        assert evaluated.json()["metrics"][name] == pytest.approx(tc_metrics["test"][name])

    # The registry takes Turi Create runs too.
    assert api.post("/v1/models/Wrist/versions", json={"run_id": tc_id}).status_code in (200, 201)
    assert api.get("/v1/models/Wrist/latest/model.mlmodel").content == mlmodel.content

    # Live classification of a Turi Create run steps its exported .mlmodel (as the phone
    # does): the windows and classes of Turi Create's own per-window predictions.
    socket, ready = open_stream(ws_url(str(api.base_url), f"/v1/runs/{tc_id}/live"))
    with socket:
        assert ready["classes"] == answer.json()["classes"]
        streamed = stream_frames(socket, [{"rows": recording().tolist()}])
    expected = predict_per_window(api, f"/v1/runs/{tc_id}")
    assert len(expected["window"]) == 30  # the state crosses Turi Create's reset (window 20)
    columns = as_columns(streamed[:-1])
    for name in ("window", "first_row", "num_rows", "class"):
        assert columns[name] == expected[name], name
    # Turi Create computes in float32 (MXNet); the file's weights are its float32 weights.
    np.testing.assert_allclose(
        columns["probability_vector"], expected["probability_vector"], rtol=0, atol=1e-4
    )
