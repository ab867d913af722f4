"""GET /v1/runs/{id}/model.mlmodel: Turi Create's interface, cached, ETag / 304, 409 early."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pyarrow.csv as pacsv
import pytest
from coremltools.models import MLModel

from tests.support.oracles.coreml_evaluator import CoreMLEvaluator
from tests.support.oracles.coreml_interface import check_interface
from tests.support.runs import running_workers, start_run, upload_basicmotions, wait_for
from workers.engines.torch import ActivityClassifier

FEATURES = ["accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ"]


@pytest.mark.system
def test_exported_model_downloads_with_turi_create_interface_and_predicts_like_the_run(
    api, settings, tmp_path
):
    upload_basicmotions(api)
    run_id = start_run(
        api,
        prediction_window=10,
        max_iterations=2,
        random_seed=5,
        model={"name": "WristGestures", "author": "motionlab tests", "license": "MIT"},
    )
    early = api.get(f"/v1/runs/{run_id}/model.mlmodel")
    assert early.status_code == 409 and "queued" in early.json()["detail"]
    with running_workers(settings, 1):
        wait_for(api, run_id, {"succeeded"})

    response = api.get(f"/v1/runs/{run_id}/model.mlmodel")
    assert response.status_code == 200
    assert 'filename="WristGestures.mlmodel"' in response.headers["content-disposition"]
    assert response.headers["etag"] == f'"{hashlib.sha256(response.content).hexdigest()}"'
    cached = api.get(
        f"/v1/runs/{run_id}/model.mlmodel", headers={"If-None-Match": response.headers["etag"]}
    )
    assert cached.status_code == 304
    assert api.get(f"/v1/runs/{run_id}/model.mlmodel").content == response.content  # cached file

    path = tmp_path / "WristGestures.mlmodel"
    path.write_bytes(response.content)
    spec = MLModel(str(path)).get_spec()
    classes = ["Badminton", "Running", "Standing", "Walking"]
    assert (
        check_interface(
            spec, features=FEATURES, target="activity", prediction_window=10, classes=classes
        )
        == []
    )
    metadata = spec.description.metadata
    assert metadata.author == "motionlab tests" and metadata.license == "MIT"
    assert metadata.userDefined["motionlab.run_id"] == run_id

    # The file predicts what the run's own checkpoint predicts (first 20 windows: TC semantics).
    model = ActivityClassifier.load(settings.runs_dir / run_id / "model.pt")
    csv = api.get("/v1/sessions/test-003/samples").content
    table = pacsv.read_csv(io.BytesIO(csv))
    rows = np.column_stack([table.column(f).to_numpy() for f in FEATURES])
    streamed = CoreMLEvaluator(path).predict_session(rows).probabilities
    data = {
        "session_id": ["test-003"] * len(rows),
        **{f: rows[:, i] for i, f in enumerate(FEATURES)},
    }
    batch = model.predict(data, output_type="probability_vector", output_frequency="per_window")
    np.testing.assert_allclose(streamed, np.stack(batch["probability_vector"]), atol=1e-4)
