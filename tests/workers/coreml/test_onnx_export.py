"""ONNX export: onnxruntime streams, window by window with the state carried, what the torch
network and the Core ML file (NumPy evaluator) predict; the interface and metadata are the
documented ones."""

from __future__ import annotations

import json
from functools import partial

import numpy as np
import onnx
import onnxruntime
import pytest

from tests.support.networks import onnx_stream
from tests.support.oracles.coreml_evaluator import CoreMLEvaluator
from workers.engines.torch.stream import stream_step
from workers.exports.coreml.export import build_spec, export_model
from workers.exports.coreml.network import UnsupportedSpecError, read_network
from workers.exports.onnx import build_onnx, export_onnx

pytestmark = pytest.mark.unit

TOLERANCE = 1e-4
SCENARIOS = [
    pytest.param(["accel"], ["run", "walk"], 5, id="one_feature_two_classes_window_5"),
    pytest.param(["x", "y", "z"], [0, 1, 2, 10], 1, id="integer_classes_window_1"),
    pytest.param(
        ["accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ"],
        ["Badminton", "Running", "Standing", "Walking"],
        50,
        id="six_features_window_50",
    ),
    pytest.param(["x", "y"], [f"g{i:02d}" for i in range(12)], 400, id="12_classes_window_400"),
]


@pytest.mark.parametrize(("features", "classes", "prediction_window"), SCENARIOS)
def test_onnx_streams_like_torch_and_the_core_ml_file_over_27_windows(
    tmp_path, make_classifier, make_rows, stream_torch, features, classes, prediction_window
):
    classifier = make_classifier(
        classes=classes, features=features, prediction_window=prediction_window
    )
    rows = make_rows(27 * prediction_window + prediction_window // 2, len(features))
    mlmodel = export_model(classifier, tmp_path / "model.mlmodel", run_id="run-1")
    path = export_onnx(mlmodel, tmp_path / "model.onnx", recipe=classifier.params.recipe)

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    probabilities, labels, state = onnx_stream(session, features, rows, prediction_window)
    core_ml = CoreMLEvaluator(mlmodel).predict_session(rows)
    torch_probabilities, torch_state = stream_torch(
        partial(stream_step, classifier.net), rows, prediction_window
    )

    assert len(probabilities) == 27 + (prediction_window > 1)  # and a zero-padded one
    np.testing.assert_allclose(probabilities, core_ml.probabilities, atol=TOLERANCE)
    np.testing.assert_allclose(probabilities, torch_probabilities, atol=TOLERANCE)
    np.testing.assert_allclose(state, core_ml.state, atol=TOLERANCE)
    np.testing.assert_allclose(state, torch_state, atol=TOLERANCE)
    assert labels == core_ml.labels == [str(classes[i]) for i in probabilities.argmax(axis=1)]


def test_onnx_interface_and_metadata_are_the_documented_ones(tmp_path, make_classifier):
    features, classes = ["accel x", "gyro,y"], ["sit, down", "stehen ü"]  # any name survives
    classifier = make_classifier(classes=classes, features=features, prediction_window=7)
    mlmodel = export_model(classifier, tmp_path / "m.mlmodel", run_id="r-1", author="Ada")
    model = onnx.load(export_onnx(mlmodel, tmp_path / "m.onnx", engine="torch", recipe="x"))

    def shape(value):
        return [d.dim_value for d in value.type.tensor_type.shape.dim]

    def element(value):
        return onnx.TensorProto.DataType.Name(value.type.tensor_type.elem_type)

    graph = model.graph
    assert [(i.name, element(i), shape(i)) for i in graph.input] == [
        ("accel x", "FLOAT", [7]),
        ("gyro,y", "FLOAT", [7]),
        ("stateIn", "FLOAT", [400]),
    ]
    assert [(o.name, element(o), shape(o)) for o in graph.output] == [
        ("activityProbability", "FLOAT", [2]),
        ("activity", "STRING", [1]),
        ("stateOut", "FLOAT", [400]),
    ]
    metadata = {p.key: p.value for p in model.metadata_props}
    assert json.loads(metadata["classes"]) == classes
    assert metadata["features"] == "accel x,gyro,y"  # the Core ML file's own keys too
    assert (metadata["prediction_window"], metadata["target"]) == ("7", "activity")
    assert (metadata["motionlab.run_id"], metadata["author"]) == ("r-1", "Ada")
    assert (metadata["engine"], metadata["recipe"]) == ("torch", "x")
    assert metadata["com.github.motionlab.version"] == model.producer_version
    assert {node.op_type for node in graph.node} >= {"LSTM", "Gemm", "BatchNormalization"}
    onnx.checker.check_model(model, full_check=True)
    session = onnxruntime.InferenceSession(model.SerializeToString())
    label = session.run(["activity"], {i.name: np.zeros(shape(i), np.float32) for i in graph.input})
    assert label[0].tolist()[0] in classes


def test_a_core_ml_file_that_is_not_an_activity_classifier_is_refused(make_classifier):
    classifier = make_classifier(classes=["a", "b"], features=["x"], prediction_window=2)
    spec = build_spec(
        classifier.net,
        classes=["a", "b"],
        features=["x"],
        target="activity",
        session_id="s",
        prediction_window=2,
        max_iterations=1,
    )
    del spec.neuralNetworkClassifier.layers[-1]  # no softmax
    with pytest.raises(UnsupportedSpecError, match="not an activity classifier"):
        build_onnx(read_network(spec))
