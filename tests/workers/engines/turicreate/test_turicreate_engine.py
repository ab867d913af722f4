"""The real Turi Create 6.4.1, trained on BasicMotions through the engine (Python 3.8 child).

One training run is shared by the module (about 10 s); everything else reads its outputs or
starts short runner processes. Skipped when the env is missing (`make turicreate-env`), unless
CI or MOTIONLAB_REQUIRE_TURICREATE is set: then a missing env fails them (tests/conftest.py).
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import os
import signal
import threading
import time
import zipfile

import numpy as np
import onnxruntime
import pyarrow.csv as pa_csv
import pytest

from core.params import RunParams
from tests.support.networks import onnx_stream
from tests.support.oracles.coreml_evaluator import CoreMLEvaluator
from tests.support.oracles.mlprogram_evaluator import MLProgramEvaluator
from tests.support.paths import BASICMOTIONS_CSV
from workers.engines.turicreate import (
    RunnerCanceled,
    TrainParams,
    TrainResult,
    TuricreateError,
    predict_data,
    train,
    train_parts,
)
from workers.engines.turicreate.engine import TuriCreateEngine
from workers.engines.turicreate.prediction_server import prediction_server
from workers.exports.mlprogram import export_mlpackage_zip, unzip_package
from workers.exports.onnx import export_onnx
from workers.motion_data import MotionData

FEATURES = ("accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ")
PARAMS = TrainParams(features=FEATURES, prediction_window=10, max_iterations=20, random_seed=42)

pytestmark = pytest.mark.turicreate


@pytest.fixture(scope="module")
def basicmotions() -> dict[str, MotionData]:
    """BasicMotions by its split column: 40 train and 40 test sessions of 100 rows."""
    table = pa_csv.read_csv(BASICMOTIONS_CSV)
    split = table.column("split").to_numpy(zero_copy_only=False)
    return {
        part: MotionData.from_columns(
            table.filter(split == part),
            session_id="sessionId",
            target="activity",
            features=FEATURES,
        )
        for part in ("train", "test")
    }


@pytest.fixture(scope="module")
def arrivals() -> list[float]:
    """When each iteration report reached on_iteration (monotonic seconds)."""
    return []


@pytest.fixture(scope="module")
def trained(basicmotions, arrivals, tmp_path_factory) -> TrainResult:
    seen: list[dict] = []

    def on_iteration(report: dict) -> None:
        seen.append(report)
        arrivals.append(time.monotonic())

    result = train_parts(
        parts=basicmotions,
        params=PARAMS,
        out_dir=tmp_path_factory.mktemp("turicreate") / "run",
        on_iteration=on_iteration,
    )
    assert seen == result.iterations
    return result


def test_training_reports_every_iteration_as_it_happens(trained):
    iterations = trained.iterations
    assert [report["iteration"] for report in iterations] == list(range(1, 21))
    assert all(0.0 <= report["train_accuracy"] <= 1.0 for report in iterations)
    assert all(report["validation_accuracy"] is None for report in iterations)  # no valid part
    elapsed = [report["elapsed_s"] for report in iterations]
    assert elapsed == sorted(elapsed)
    assert set(iterations[0]) == {
        "iteration",
        "train_accuracy",
        "validation_accuracy",
        "train_loss",
        "validation_loss",
        "elapsed_s",
    }


def test_progress_arrives_while_training_runs_not_at_the_end(trained, arrivals):
    elapsed = [report["elapsed_s"] for report in trained.iterations]
    assert arrivals[-1] - arrivals[0] >= 0.5 * (elapsed[-1] - elapsed[0])


def test_training_leaves_model_mlmodel_and_per_row_probabilities(trained):
    summary = trained.summary
    assert summary["versions"]["turicreate"] == "6.4.1"
    assert summary["num_sessions"] == 40
    assert summary["parts"] == {
        "train": {"rows": 4000, "sessions": 40},
        "test": {"rows": 4000, "sessions": 40},
    }
    assert trained.classes == ["Badminton", "Running", "Standing", "Walking"]
    assert (trained.model_dir / "objects.bin").is_file()
    assert trained.mlmodel_path.stat().st_size > 0
    for part in ("train", "test"):
        probabilities = trained.probabilities(part)
        assert probabilities.classes == trained.classes
        assert probabilities.probabilities.shape == (4000, 4)
        np.testing.assert_allclose(probabilities.probabilities.sum(axis=1), 1.0, atol=1e-5)
        assert probabilities.targets[0] in trained.classes


def test_motionlab_metrics_agree_with_turicreate_evaluate(trained):
    ours, theirs = trained.metrics(), trained.tc_evaluation()
    assert set(ours) == {"train", "test"}
    for part in ("train", "test"):
        for key in ("accuracy", "precision", "recall", "f1_score", "log_loss"):
            assert ours[part][key] == pytest.approx(theirs[part][key], abs=1e-6), (part, key)
    # Turi Create's own score on BasicMotions' test split (spec: about 0.84–0.86).
    assert 0.75 <= ours["test"]["accuracy"] <= 0.95


def test_first_session_windows_repeat_into_per_row_probabilities(trained):
    windows = trained.first_session_windows
    assert (windows["part"], windows["session_id"], windows["rows"]) == ("test", "test-000", 100)
    per_row = trained.probabilities("test")
    rows = per_row.probabilities[per_row.session_ids == "test-000"]  # (100, C)
    np.testing.assert_allclose(rows, np.repeat(windows["probabilities"], 10, axis=0), atol=1e-7)


def test_coreml_evaluator_reproduces_turicreate_on_its_own_export(trained, basicmotions):
    """An independent check of the NumPy evaluator: Turi Create's .mlmodel, Turi Create's
    windows (a session of 10 windows: state carried like an app, no 20-window reset)."""
    windows = trained.first_session_windows
    test = basicmotions["test"]
    rows = test.features[test.session_ids == windows["session_id"]]  # (100, F)
    evaluator = CoreMLEvaluator(trained.mlmodel_path)
    assert evaluator.class_labels == windows["classes"]
    predicted = evaluator.predict_session(rows).probabilities
    np.testing.assert_allclose(predicted, windows["probabilities"], atol=1e-5)


def test_onnx_and_ml_program_of_a_turi_create_export_predict_what_turi_create_did(
    trained, basicmotions, tmp_path
):
    """Turi Create runs get the other formats too: converted from Turi Create's own .mlmodel,
    they stream Turi Create's own windows (state carried) to Turi Create's probabilities."""
    windows = trained.first_session_windows
    test = basicmotions["test"]
    rows = test.features[test.session_ids == windows["session_id"]].astype(np.float32)
    path = export_onnx(trained.mlmodel_path, tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(str(path))
    probabilities, labels, _ = onnx_stream(session, list(FEATURES), rows, 10)
    np.testing.assert_allclose(probabilities, windows["probabilities"], atol=1e-4)
    assert labels == [windows["classes"][i] for i in probabilities.argmax(axis=1)]

    archive = export_mlpackage_zip(trained.mlmodel_path, tmp_path / "model.zip")
    program = MLProgramEvaluator(unzip_package(archive, tmp_path / "package"))
    state, streamed = np.zeros(400), []
    for index in range(10):
        window = rows[index * 10 : (index + 1) * 10]
        inputs = {name: window[:, j] for j, name in enumerate(FEATURES)}
        outputs = program.predict({**inputs, "stateIn": state})
        streamed.append([outputs["activityProbability"][c] for c in windows["classes"]])
        state = outputs["stateOut"]
    np.testing.assert_allclose(streamed, windows["probabilities"], atol=1e-4)


def test_predict_serves_what_training_computed(trained, basicmotions):
    test = basicmotions["test"]
    unlabeled = MotionData(test.session_ids, test.features, test.feature_names, None, "sessionId")
    per_row = predict_data(model_dir=trained.model_dir, data=unlabeled)
    expected = trained.probabilities("test")
    assert per_row.classes == trained.classes
    assert per_row.session_ids.tolist() == expected.session_ids.tolist()
    np.testing.assert_allclose(per_row.probabilities, expected.probabilities, atol=1e-6)


def test_predict_per_window_numbers_windows_within_sessions(trained, basicmotions):
    per_window = predict_data(
        model_dir=trained.model_dir, data=basicmotions["test"], output_frequency="per_window"
    )
    assert per_window.probabilities.shape == (400, 4)  # 40 sessions x 10 windows
    assert per_window.windows[:12].tolist() == [*range(10), 0, 1]
    assert set(per_window.prediction_ids.tolist()) == {0}  # chunk index: < 20 windows each
    first = per_window.session_ids == "test-000"
    np.testing.assert_allclose(
        per_window.probabilities[first], trained.first_session_windows["probabilities"], atol=1e-6
    )


def test_predictions_share_one_runner_that_is_started_again_when_it_dies(trained, basicmotions):
    """Turi Create starts once per process (~3 s), not once per prediction."""
    server = prediction_server()
    first = predict_data(model_dir=trained.model_dir, data=basicmotions["test"])
    pid = server.pid
    again = predict_data(model_dir=trained.model_dir, data=basicmotions["test"])
    assert pid is not None and server.pid == pid
    np.testing.assert_array_equal(again.probabilities, first.probabilities)

    with pytest.raises(TuricreateError, match="cannot load a Turi Create model"):
        predict_data(model_dir=trained.out_dir / "missing", data=basicmotions["test"])
    assert server.pid == pid  # bad input does not cost a restart

    os.kill(pid, signal.SIGKILL)
    revived = predict_data(model_dir=trained.model_dir, data=basicmotions["test"])
    assert server.pid not in (None, pid)
    np.testing.assert_array_equal(revived.probabilities, first.probabilities)


def test_the_engine_serves_the_trained_model_with_its_fields_and_files(trained):
    engine, run_dir = TuriCreateEngine(), trained.out_dir
    model = engine.load_model(run_dir)
    assert repr(model).startswith("TuriCreateModel(classes=['Badminton', 'Running', ")
    fields = {name: getattr(model, name) for name in model.fields()}
    assert fields["training_accuracy"] == trained.metrics()["train"]["accuracy"]
    assert (fields["num_sessions"], fields["training_iterations"]) == (40, 20)
    params = RunParams(features=list(FEATURES), random_seed=42)
    assert engine.export_coreml(run_dir, params, run_id="run") == trained.mlmodel_path
    assert zipfile.is_zipfile(engine.native_file(run_dir))


def test_cancel_terminates_the_runner(basicmotions, tmp_path):
    started = threading.Event()
    stop_asked_at: list[float] = []

    def should_stop() -> bool:
        if started.is_set() and not stop_asked_at:
            stop_asked_at.append(time.monotonic())
        return started.is_set()

    long_run = dataclasses.replace(PARAMS, max_iterations=10_000)
    with pytest.raises(RunnerCanceled):
        train_parts(
            parts={"train": basicmotions["train"]},
            params=long_run,
            out_dir=tmp_path / "run",
            on_iteration=lambda report: started.set(),
            should_stop=should_stop,
        )
    assert time.monotonic() - stop_asked_at[0] < 10
    assert not (tmp_path / "run" / "summary.json").exists()


def test_unknown_feature_column_is_named_in_the_error(tmp_path):
    with pytest.raises(TuricreateError, match="nope") as failure:
        train(
            data_csv=BASICMOTIONS_CSV,
            params=TrainParams(features=("accelX", "nope"), prediction_window=10),
            out_dir=tmp_path / "run",
        )
    assert failure.value.returncode == 2


def test_turicreate_own_validation_error_is_passed_on(tmp_path):
    rows = tmp_path / "rows.csv"
    with open(BASICMOTIONS_CSV, newline="") as source, open(rows, "w", newline="") as target:
        csv.writer(target).writerows(itertools.islice(csv.reader(source), 301))
    with pytest.raises(TuricreateError, match="prediction_window must be between 1 and 400"):
        train(
            data_csv=rows,
            params=TrainParams(features=FEATURES, prediction_window=401),
            out_dir=tmp_path / "run",
        )
