"""The real Turi Create 6.4.1, trained on BasicMotions through the engine (Python 3.8 child).

One training run is shared by the module (about 10 s); everything else reads its outputs or
asks Turi Create itself for predictions (a runner per call, seconds each: a module fixture).
Skipped when the env is missing (`make turicreate-env`), unless CI or MOTIONLAB_REQUIRE_TURICREATE
is set: then a missing env fails them (tests/conftest.py).
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import zipfile

import numpy as np
import onnxruntime
import pyarrow.csv as pa_csv
import pytest

from core.params import RunParams
from tests.support.networks import net_from_network, onnx_stream, wrap
from tests.support.oracles.coreml_evaluator import CoreMLEvaluator
from tests.support.oracles.mlprogram_evaluator import MLProgramEvaluator
from tests.support.paths import BASICMOTIONS_CSV
from workers.engines.turicreate import (
    Probabilities,
    RunnerCanceled,
    TrainParams,
    TrainResult,
    TuricreateError,
    predict_data,
    train,
    train_parts,
    write_parts,
)
from workers.engines.turicreate.engine import TuriCreateEngine
from workers.engines.turicreate.model import TuriCreateModel
from workers.exports.coreml.network import read_network
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


@pytest.fixture(scope="module")
def model(trained) -> TuriCreateModel:
    return TuriCreateModel(trained.out_dir)


@pytest.fixture(scope="module")
def turicreate_own(trained, basicmotions) -> dict[str, Probabilities]:
    """Turi Create's own predictions on the test part, per row and per window: the reference."""
    return {
        frequency: predict_data(
            model_dir=trained.model_dir,
            data=basicmotions["test"],
            classes=trained.classes,
            output_frequency=frequency,
        )
        for frequency in ("per_row", "per_window")
    }


def test_training_leaves_model_mlmodel_and_metrics_of_every_part(trained):
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
    assert set(trained.metrics()) == {"train", "test"}
    assert sorted(trained.artifacts(trained.out_dir)) == [
        "mlmodel",
        "model",
        "part_metrics",
        "summary",
    ]


def test_nothing_is_predicted_twice_after_training(trained):
    """No per-part prediction or evaluate() in the runner: the metrics come from the export."""
    names = {path.name for path in trained.out_dir.iterdir()}
    assert names == {"model", "model.mlmodel", "params.json", "summary.json", "part_metrics.json"}


def test_run_metrics_agree_with_turicreate_own_training_metrics(trained):
    """Turi Create scores its training part itself at the end of create(); the run's metrics,
    computed from the exported model in NumPy, say the same."""
    ours, theirs = trained.metrics()["train"], trained.summary["model_fields"]
    for key in ("accuracy", "precision", "recall", "f1_score", "log_loss"):
        assert ours[key] == pytest.approx(theirs[f"training_{key}"], abs=1e-4), key
    # Turi Create's own score on BasicMotions' test split (spec: about 0.84–0.86).
    assert 0.75 <= trained.metrics()["test"]["accuracy"] <= 0.95


def test_predictions_per_row_equal_turicreate_own_within_1e_4(model, basicmotions, turicreate_own):
    test = basicmotions["test"]
    unlabeled = MotionData(test.session_ids, test.features, test.feature_names, None, "sessionId")
    theirs = turicreate_own["per_row"]
    probabilities = model.predict(unlabeled, output_type="probability_vector")
    assert probabilities.shape == theirs.probabilities.shape == (4000, 4)
    np.testing.assert_allclose(probabilities, theirs.probabilities, rtol=0, atol=1e-4)
    classes = model.predict(unlabeled, output_type="class")
    decided = _margin(theirs.probabilities) > 1e-4  # rows whose best class is not a near tie
    assert decided.mean() > 0.99
    expected = np.asarray(theirs.classes)[theirs.probabilities.argmax(axis=1)]
    assert (classes[decided] == expected[decided]).all()


def test_predictions_per_window_equal_turicreate_own_within_1e_4(
    model, basicmotions, turicreate_own
):
    theirs = turicreate_own["per_window"]
    windows = model.predict(
        basicmotions["test"], output_type="probability_vector", output_frequency="per_window"
    )
    assert theirs.probabilities.shape == (400, 4)  # 40 sessions x 10 windows
    assert windows["session_id"].tolist() == theirs.session_ids.tolist()
    assert windows["prediction_id"].tolist() == theirs.prediction_ids.tolist()
    assert windows["window"][:12].tolist() == [*range(10), 0, 1]
    np.testing.assert_allclose(
        windows["probability_vector"], theirs.probabilities, rtol=0, atol=1e-4
    )
    classified = model.classify(basicmotions["test"], output_frequency="per_window")
    decided = _margin(theirs.probabilities) > 1e-4
    expected = np.asarray(theirs.classes)[theirs.probabilities.argmax(axis=1)]
    assert (classified["class"][decided] == expected[decided]).all()
    np.testing.assert_allclose(
        classified["probability"], theirs.probabilities.max(axis=1), rtol=0, atol=1e-4
    )


def test_topk_equals_turicreate_own_ranking_within_1e_4(model, basicmotions, turicreate_own):
    theirs = turicreate_own["per_row"].probabilities
    top = model.predict_topk(basicmotions["test"], output_type="probability", k=2)
    assert top["row_id"].tolist() == np.repeat(np.arange(4000), 2).tolist()
    order = np.argsort(-theirs, axis=1, kind="stable")[:, :2]  # (N, 2)
    np.testing.assert_allclose(
        top["probability"], np.take_along_axis(theirs, order, axis=1).ravel(), rtol=0, atol=1e-4
    )
    ranked = -np.sort(-theirs, axis=1)
    decided = np.repeat((ranked[:, :2] - ranked[:, 1:3]).min(axis=1) > 1e-4, 2)  # no near tie
    expected = np.asarray(model.classes)[order.ravel()]
    assert (top["class"][decided] == expected[decided]).all()


def test_the_torch_network_with_turicreate_weights_predicts_what_turicreate_did(
    trained, basicmotions, turicreate_own
):
    """The torch engine's network and inference (chunks of 20 windows, each from a zero state)
    compute Turi Create's function: Turi Create's trained weights, moved into it, give Turi
    Create's own probabilities per window and per row."""
    network = read_network(trained.mlmodel_path)
    assert network.bn_epsilon == pytest.approx(1e-3)  # Keras BatchNormalization's
    torch_model = wrap(net_from_network(network), classes=network.classes, features=FEATURES)
    test = basicmotions["test"]
    for frequency in ("per_window", "per_row"):
        theirs = turicreate_own[frequency]
        ours = torch_model.predict(
            test, output_type="probability_vector", output_frequency=frequency
        )
        probabilities = ours["probability_vector"] if frequency == "per_window" else ours
        order = [network.classes.index(c) for c in theirs.classes]
        np.testing.assert_allclose(
            np.asarray(probabilities)[:, order], theirs.probabilities, rtol=0, atol=1e-4
        )


def _margin(probabilities: np.ndarray) -> np.ndarray:
    """(N,) the best probability minus the second best."""
    ranked = -np.sort(-probabilities, axis=1)
    return ranked[:, 0] - ranked[:, 1]


def test_coreml_evaluator_reproduces_turicreate_on_its_own_export(
    trained, basicmotions, turicreate_own
):
    """An independent check of the NumPy evaluator: Turi Create's .mlmodel, Turi Create's
    windows (a session of 10 windows: state carried like an app, no 20-window reset)."""
    windows = turicreate_own["per_window"]
    first = windows.session_ids == "test-000"
    test = basicmotions["test"]
    rows = test.features[test.session_ids == "test-000"]  # (100, F)
    evaluator = CoreMLEvaluator(trained.mlmodel_path)
    assert evaluator.class_labels == trained.classes
    predicted = evaluator.predict_session(rows).probabilities
    np.testing.assert_allclose(predicted, windows.probabilities[first], atol=1e-5)


def test_onnx_and_ml_program_of_a_turi_create_export_predict_what_turi_create_did(
    trained, basicmotions, turicreate_own, tmp_path
):
    """Turi Create runs get the other formats too: converted from Turi Create's own .mlmodel,
    they stream Turi Create's own windows (state carried) to Turi Create's probabilities."""
    windows = turicreate_own["per_window"]
    expected = windows.probabilities[windows.session_ids == "test-000"]  # (10, C)
    test = basicmotions["test"]
    rows = test.features[test.session_ids == "test-000"].astype(np.float32)
    path = export_onnx(trained.mlmodel_path, tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(str(path))
    probabilities, labels, _ = onnx_stream(session, list(FEATURES), rows, 10)
    np.testing.assert_allclose(probabilities, expected, atol=1e-4)
    assert labels == [trained.classes[i] for i in probabilities.argmax(axis=1)]

    archive = export_mlpackage_zip(trained.mlmodel_path, tmp_path / "model.zip")
    program = MLProgramEvaluator(unzip_package(archive, tmp_path / "package"))
    state, streamed = np.zeros(400), []
    for index in range(10):
        window = rows[index * 10 : (index + 1) * 10]
        inputs = {name: window[:, j] for j, name in enumerate(FEATURES)}
        outputs = program.predict({**inputs, "stateIn": state})
        streamed.append([outputs["activityProbability"][c] for c in trained.classes])
        state = outputs["stateOut"]
    np.testing.assert_allclose(streamed, expected, atol=1e-4)


def test_data_goes_over_as_binary_columns_not_text(basicmotions, tmp_path):
    """What the runner reads: NumPy columns (features by column, session lengths, label
    codes), no CSV; labels and ids stay on this side."""
    rows = write_parts(tmp_path, parts=basicmotions)
    assert rows == 8000
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["classes"] == ["Badminton", "Running", "Standing", "Walking"]
    assert manifest["parts"]["test"] == {"rows": 4000, "sessions": 40}
    features = np.load(tmp_path / "train.features.npy")
    assert features.shape == (6, 4000) and features.dtype == np.float32
    np.testing.assert_array_equal(features.T, basicmotions["train"].features)
    assert np.load(tmp_path / "train.session_lengths.npy").tolist() == [100] * 40
    codes = np.load(tmp_path / "train.targets.npy")
    labels = np.asarray(manifest["classes"])[codes]
    assert labels.tolist() == basicmotions["train"].targets.tolist()


def test_the_engine_serves_the_trained_model_with_its_fields_and_files(trained):
    engine, run_dir = TuriCreateEngine(), trained.out_dir
    assert engine.serves_inline  # NumPy on the exported model: no runner behind a prediction
    model = engine.load_model(run_dir)
    assert repr(model).startswith("TuriCreateModel(classes=['Badminton', 'Running', ")
    fields = {name: getattr(model, name) for name in model.fields()}
    assert fields["training_accuracy"] == trained.metrics()["train"]["accuracy"]
    assert (fields["num_sessions"], fields["training_iterations"]) == (40, 20)
    params = RunParams(features=list(FEATURES), random_seed=42)
    exported = engine.export_coreml(run_dir, params, run_id="run")
    assert exported == trained.path("mlmodel")  # the runner's file, now the run's model
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


def test_unknown_feature_column_is_named_in_the_error(basicmotions, tmp_path):
    write_parts(tmp_path / "data", parts={"train": basicmotions["train"]})
    with pytest.raises(TuricreateError, match="nope") as failure:
        train(
            data_dir=tmp_path / "data",
            params=TrainParams(features=("accelX", "nope"), prediction_window=10),
            out_dir=tmp_path / "run",
        )
    assert failure.value.returncode == 2


def test_turicreate_own_validation_error_is_passed_on(basicmotions, tmp_path):
    with pytest.raises(TuricreateError, match="prediction_window must be between 1 and 400"):
        train_parts(
            parts={"train": basicmotions["train"]},
            params=TrainParams(features=FEATURES, prediction_window=401),
            out_dir=tmp_path / "run",
        )
