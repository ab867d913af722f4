"""Core ML ML Program export. Core ML cannot run here, so the saved package is read back: its
ops, shapes, names, metadata and class labels, and the program itself executed op by op
(NumPy) against the `.mlmodel` evaluator and the torch network."""

from __future__ import annotations

from functools import partial

import coremltools as ct
import numpy as np
import pytest
from coremltools.proto import FeatureTypes_pb2

from tests.support.oracles.coreml_evaluator import CoreMLEvaluator
from tests.support.oracles.mlprogram_evaluator import MLProgramEvaluator
from workers.engines.torch.stream import stream_step
from workers.exports.coreml.export import export_model
from workers.exports.mlprogram import UnsupportedInterface, export_mlpackage_zip, unzip_package
from workers.model.shape import STATE_SIZE

pytestmark = pytest.mark.unit

FLOAT32 = FeatureTypes_pb2.ArrayFeatureType.FLOAT32
# The spec-1 file's layers, one MIL op each (the window convolution is a linear layer).
OPS = [
    "concat", "linear", "relu", "slice_by_index", "slice_by_index", "lstm", "concat",
    "linear", "batch_norm", "relu", "linear", "softmax", "classify",
]  # fmt: skip


def package(tmp_path, classifier, *, precision="float32"):
    mlmodel = export_model(classifier, tmp_path / "model.mlmodel", run_id="run-9", author="Ada")
    archive = export_mlpackage_zip(
        mlmodel, tmp_path / "model.zip", precision=precision, package_name="Gestures"
    )
    return mlmodel, unzip_package(archive, tmp_path / "unzipped")


def stream(evaluator, features, rows, window):
    """Both evaluators like an app: zero state, stateOut → stateIn, windows of `window`."""
    state = np.zeros(STATE_SIZE)
    probabilities, labels = [], []
    for index in range(len(rows) // window):
        chunk = rows[index * window : (index + 1) * window]
        outputs = evaluator.predict(
            {**{f: chunk[:, j] for j, f in enumerate(features)}, "stateIn": state}
        )
        probabilities.append(list(outputs["activityProbability"].values()))
        labels.append(outputs["activity"])
        state = np.asarray(outputs["stateOut"], dtype=np.float64)
    return np.array(probabilities), labels, state


@pytest.mark.parametrize(
    ("features", "classes", "prediction_window"),
    [(["x", "y", "z"], ["sit", "stand", "walk"], 4), (["accel"], [3, 1], 25)],
)
def test_ml_program_keeps_the_interface_and_predicts_like_the_mlmodel_and_torch(
    tmp_path, make_classifier, make_rows, stream_torch, features, classes, prediction_window
):
    classifier = make_classifier(
        classes=classes, features=features, prediction_window=prediction_window
    )
    mlmodel, path = package(tmp_path, classifier)
    assert path.name == "Gestures.mlpackage"
    spec = ct.models.MLModel(str(path), skip_model_load=True).get_spec()
    reference = ct.models.MLModel(str(mlmodel), skip_model_load=True).get_spec()

    assert spec.WhichOneof("Type") == "mlProgram"
    description = spec.description
    assert [(i.name, list(i.type.multiArrayType.shape)) for i in description.input] == [
        (name, [size])
        for name, size in [*((f, prediction_window) for f in features), ("stateIn", 400)]
    ]
    assert {i.type.multiArrayType.dataType for i in description.input} == {FLOAT32}
    assert [o.name for o in description.output] == [o.name for o in reference.description.output]
    assert [o.type.WhichOneof("Type") for o in description.output] == [
        "dictionaryType", "stringType", "multiArrayType",
    ]  # fmt: skip
    assert description.predictedFeatureName == "activity"
    assert description.predictedProbabilitiesName == "activityProbability"
    user = dict(description.metadata.userDefined)
    assert user.items() >= dict(reference.description.metadata.userDefined).items()
    assert (user["precision"], description.metadata.author) == ("float32", "Ada")

    evaluator = MLProgramEvaluator(path)
    assert [op for op in evaluator.op_types if op not in ("const", "reshape")] == (
        OPS if len(features) > 1 else OPS[1:]
    )
    rows = make_rows(22 * prediction_window, len(features)).astype(np.float64)
    probabilities, labels, state = stream(evaluator, features, rows, prediction_window)
    expected, expected_labels, expected_state = stream(
        CoreMLEvaluator(mlmodel), features, rows, prediction_window
    )
    torch_probabilities, torch_state = stream_torch(
        partial(stream_step, classifier.net), rows.astype(np.float32), prediction_window
    )
    np.testing.assert_allclose(probabilities, expected, atol=1e-6)
    np.testing.assert_allclose(state, expected_state, atol=1e-6)
    np.testing.assert_allclose(probabilities, torch_probabilities, atol=1e-4)
    np.testing.assert_allclose(state, torch_state, atol=1e-4)
    assert labels == expected_labels
    assert list(evaluator.class_labels) == [str(c) for c in classes]


def test_float16_ml_program_stores_half_weights_and_stays_close(
    tmp_path, make_classifier, make_rows
):
    classifier = make_classifier(classes=["a", "b", "c"], features=["x", "y"], prediction_window=6)
    mlmodel, path = package(tmp_path, classifier, precision="float16")
    full = package(tmp_path / "full", classifier)[1]
    weights = path / "Data" / "com.apple.CoreML" / "weights" / "weight.bin"
    full_weights = full / "Data" / "com.apple.CoreML" / "weights" / "weight.bin"
    assert weights.stat().st_size < 0.6 * full_weights.stat().st_size
    evaluator = MLProgramEvaluator(path)
    assert "cast" in evaluator.op_types
    spec = ct.models.MLModel(str(path), skip_model_load=True).get_spec()
    assert spec.description.metadata.userDefined["precision"] == "float16"

    rows = make_rows(22 * 6, 2).astype(np.float64)
    probabilities, _, _ = stream(evaluator, ["x", "y"], rows, 6)
    expected, _, _ = stream(CoreMLEvaluator(mlmodel), ["x", "y"], rows, 6)
    np.testing.assert_allclose(probabilities, expected, atol=2e-2)  # float16 arithmetic
    assert np.abs(probabilities - expected).max() > 1e-7  # really computed in float16


def test_names_an_ml_program_cannot_keep_are_refused_not_renamed(tmp_path, make_classifier):
    classifier = make_classifier(classes=["a", "b"], features=["accel x", "y"], prediction_window=3)
    mlmodel = export_model(classifier, tmp_path / "model.mlmodel")
    with pytest.raises(UnsupportedInterface, match=r"\['accel x'\].*\.onnx"):
        export_mlpackage_zip(mlmodel, tmp_path / "model.zip")
    assert not (tmp_path / "model.zip").exists()
