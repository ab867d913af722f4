"""GET …/model.onnx and …/model.mlpackage.zip: converted from the run's .mlmodel on the first
download, cached, ETag / 304 like the .mlmodel, the same problems for unknown / unfinished /
failed runs, and by registry reference too."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import coremltools as ct
import numpy as np
import onnx
import onnxruntime

from core.db import make_engine, make_session_factory, unit_of_work
from core.models import RunStatus
from core.runs import claim_next_run, finish_run
from tests.support.networks import onnx_stream, session_rows
from tests.support.oracles.coreml_evaluator import CoreMLEvaluator
from tests.support.oracles.mlprogram_evaluator import MLProgramEvaluator
from tests.support.problems import problem
from tests.support.runs import (
    running_workers,
    start_run,
    upload_named_features,
    upload_tiny,
    wait_for,
)
from workers.exports.mlprogram import unzip_package

FORMATS = ("model.onnx", "model.mlpackage.zip")


def assert_cached_download(api, url: str, filename: str) -> bytes:
    response = api.get(url)
    assert response.status_code == 200, response.text
    assert f'filename="{filename}"' in response.headers["content-disposition"]
    assert response.headers["etag"] == f'"{hashlib.sha256(response.content).hexdigest()}"'
    again = api.get(url, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304 and not again.content
    assert api.get(url).content == response.content  # converted once, then the cached file
    return response.content


def fail_next_queued_run(settings) -> None:
    """What a worker does to a run that fails, through the real state machine."""
    factory = make_session_factory(make_engine(settings.resolved_database_url))
    with unit_of_work(factory) as db:
        run_id = claim_next_run(db, worker_id="test-worker")
    with unit_of_work(factory) as db:
        finish_run(
            db,
            run_id=run_id,
            worker_id="test-worker",
            status=RunStatus.FAILED,
            error_message="boom",
        )


def test_onnx_and_ml_program_download_convert_once_and_predict_like_the_mlmodel(
    api, settings, tmp_path
):
    upload_tiny(api)
    run_id = start_run(
        api, prediction_window=5, max_iterations=2, random_seed=3, model={"name": "Tiny"}
    )
    for name in FORMATS:
        assert "queued" in problem(api.get(f"/v1/runs/{run_id}/{name}"), 409)["detail"]
        assert "does not exist" in problem(api.get(f"/v1/runs/nope/{name}"), 404)["detail"]
    with running_workers(settings, 1):
        run = wait_for(api, run_id, {"succeeded", "failed"})
    assert run["status"] == "succeeded", run["error_message"]
    run_dir = settings.runs_dir / run_id
    mlmodel = run_dir / "model.mlmodel"
    rows = session_rows(23 * 5, 2)
    expected = CoreMLEvaluator(mlmodel).predict_session(rows)

    content = assert_cached_download(api, f"/v1/runs/{run_id}/model.onnx", "Tiny.onnx")
    assert (run_dir / "model.onnx").read_bytes() == content
    model = onnx.load_from_string(content)
    metadata = {p.key: p.value for p in model.metadata_props}
    assert json.loads(metadata["classes"]) == ["a", "b"]
    assert (metadata["motionlab.run_id"], metadata["engine"]) == (run_id, "torch")
    assert metadata["recipe"] == "motionlab"  # the default recipe
    session = onnxruntime.InferenceSession(content)
    probabilities, labels, state = onnx_stream(session, ["x", "y"], rows, 5)
    np.testing.assert_allclose(probabilities, expected.probabilities, atol=1e-4)
    np.testing.assert_allclose(state, expected.state, atol=1e-4)
    assert labels == expected.labels

    url = f"/v1/runs/{run_id}/model.mlpackage.zip"
    archive = assert_cached_download(api, url, "Tiny.mlpackage.zip")
    assert api.get(url).headers["content-type"] == "application/zip"
    assert all(
        n.startswith("Tiny.mlpackage/") for n in zipfile.ZipFile(io.BytesIO(archive)).namelist()
    )
    package = unzip_package(io.BytesIO(archive), tmp_path / "unzipped")
    assert package.name == "Tiny.mlpackage"
    spec = ct.models.MLModel(str(package), skip_model_load=True).get_spec()
    reference = ct.models.MLModel(str(mlmodel), skip_model_load=True).get_spec()
    assert spec.WhichOneof("Type") == "mlProgram"
    for part in ("input", "output"):
        names = [f.name for f in getattr(spec.description, part)]
        assert names == [f.name for f in getattr(reference.description, part)]
    assert spec.description.metadata.userDefined["motionlab.run_id"] == run_id
    outputs = MLProgramEvaluator(package).predict(
        {"x": rows[:5, 0], "y": rows[:5, 1], "stateIn": np.zeros(400)}
    )
    first = list(outputs["activityProbability"].values())
    np.testing.assert_allclose(first, expected.probabilities[0], atol=1e-5)

    half = assert_cached_download(api, f"{url}?precision=float16", "Tiny-float16.mlpackage.zip")
    assert half != archive
    package = unzip_package(io.BytesIO(half), tmp_path / "half")
    half_spec = ct.models.MLModel(str(package), skip_model_load=True).get_spec()
    assert half_spec.description.metadata.userDefined["precision"] == "float16"
    assert "'float16'" in problem(api.get(f"{url}?precision=float64"), 422)["detail"]

    # By registry reference: the run's very files.
    assert api.post("/v1/models/Gestures/versions", json={"run_id": run_id}).status_code == 201
    onnx_file = assert_cached_download(
        api, "/v1/models/Gestures/latest/model.onnx", "Gestures.onnx"
    )
    assert onnx_file == content
    zipped = assert_cached_download(
        api, "/v1/models/Gestures/1/model.mlpackage.zip", "Gestures.mlpackage.zip"
    )
    assert zipped == archive
    assert problem(api.get("/v1/models/Nope/latest/model.onnx"), 404)

    failed_id = start_run(api, prediction_window=5, max_iterations=1, random_seed=4)
    fail_next_queued_run(settings)
    for name in FORMATS:
        assert "failed" in problem(api.get(f"/v1/runs/{failed_id}/{name}"), 409)["detail"]


def test_a_feature_name_an_ml_program_cannot_keep_is_a_409_and_onnx_still_serves(api, settings):
    upload_named_features(api, "heart rate")  # an `other` column keeps its name (`accel x`: accelX)
    run_id = start_run(api, prediction_window=5, max_iterations=1, random_seed=1)
    with running_workers(settings, 1):
        run = wait_for(api, run_id, {"succeeded", "failed"})
    assert run["status"] == "succeeded", run["error_message"]

    detail = problem(api.get(f"/v1/runs/{run_id}/model.mlpackage.zip"), 409)["detail"]
    assert "'heart rate'" in detail and ".onnx" in detail
    assert not list((settings.runs_dir / run_id).glob("*.zip"))  # nothing half-written
    assert api.get(f"/v1/runs/{run_id}/model.onnx").status_code == 200
