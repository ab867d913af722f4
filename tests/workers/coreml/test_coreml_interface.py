"""The exported file has Turi Create 6.4's Core ML interface, field by field (spec §4)."""

from __future__ import annotations

import os
import stat

import coremltools
import numpy as np
import pytest
from coremltools.proto import FeatureTypes_pb2, Model_pb2

from tests.support.oracles.coreml_interface import check_interface
from workers.exports.coreml.export import build_spec, export_coreml, export_model

pytestmark = pytest.mark.unit

DOUBLE = FeatureTypes_pb2.ArrayFeatureType.DOUBLE
FEATURES = ["acc_x", "acc_y", "acc_z"]
CLASSES = [1, 2, 10]  # ints: exported as strings, numeric order kept ("10" last)


def _load(path) -> Model_pb2.Model:
    # On Linux MLModel only loads the spec; "Failed to load _MLModelProxy" is expected.
    return coremltools.models.MLModel(str(path)).get_spec()


def _export(tmp_path, make_classifier, **metadata):
    classifier = make_classifier(classes=CLASSES, features=FEATURES, prediction_window=10)
    return classifier, export_model(classifier, tmp_path / "Gestures.mlmodel", **metadata)


def test_mlmodel_loads_with_turicreate_inputs_outputs_and_labels(tmp_path, make_classifier):
    _, path = _export(tmp_path, make_classifier)
    spec = _load(path)

    assert spec.specificationVersion == 1
    assert spec.WhichOneof("Type") == "neuralNetworkClassifier"
    inputs = [
        (f.name, f.shortDescription, f.type.WhichOneof("Type")) for f in spec.description.input
    ]
    assert inputs == [
        ("acc_x", "acc_x window input", "multiArrayType"),
        ("acc_y", "acc_y window input", "multiArrayType"),
        ("acc_z", "acc_z window input", "multiArrayType"),
        ("stateIn", "LSTM state input", "multiArrayType"),
    ]
    shapes = [
        (list(f.type.multiArrayType.shape), f.type.multiArrayType.dataType)
        for f in spec.description.input
    ]
    assert shapes == [([10], DOUBLE)] * 3 + [([400], DOUBLE)]
    assert not any(f.type.isOptional for f in spec.description.input)

    outputs = [
        (f.name, f.shortDescription, f.type.WhichOneof("Type")) for f in spec.description.output
    ]
    assert outputs == [
        ("activityProbability", "Activity prediction probabilities", "dictionaryType"),
        ("activity", "Class label of top prediction", "stringType"),
        ("stateOut", "LSTM state output", "multiArrayType"),
    ]
    probability, _, state_out = spec.description.output
    assert probability.type.dictionaryType.WhichOneof("KeyType") == "stringKeyType"
    assert list(state_out.type.multiArrayType.shape) == [400]
    assert state_out.type.multiArrayType.dataType == DOUBLE
    assert spec.description.predictedFeatureName == "activity"
    assert spec.description.predictedProbabilitiesName == "activityProbability"

    classifier = spec.neuralNetworkClassifier
    assert classifier.WhichOneof("ClassLabels") == "stringClassLabels"
    assert list(classifier.stringClassLabels.vector) == ["1", "2", "10"]
    assert classifier.labelProbabilityLayerName == "activityProbability"


def test_mlmodel_layers_follow_turicreate_sequence_with_its_parameters(tmp_path, make_classifier):
    _, path = _export(tmp_path, make_classifier)
    layers = list(_load(path).neuralNetworkClassifier.layers)

    assert [(x.name, x.WhichOneof("layer"), list(x.input), list(x.output)) for x in layers] == [
        ("features", "concat", FEATURES, ["features"]),
        ("reshape", "reshape", ["features"], ["reshape"]),
        ("conv", "convolution", ["reshape"], ["conv"]),
        ("relu1", "activation", ["conv"], ["relu1"]),
        ("hiddenIn", "slice", ["stateIn"], ["hiddenIn"]),
        ("cellIn", "slice", ["stateIn"], ["cellIn"]),
        (
            "lstm",
            "uniDirectionalLSTM",
            ["relu1", "hiddenIn", "cellIn"],
            ["lstm", "hiddenOut", "cellOut"],
        ),
        ("stateOut", "concat", ["hiddenOut", "cellOut"], ["stateOut"]),
        ("dense0", "innerProduct", ["lstm"], ["dense0"]),
        ("bn", "batchnorm", ["dense0"], ["bn"]),
        ("relu6", "activation", ["bn"], ["relu6"]),
        ("dense1", "innerProduct", ["relu6"], ["dense1"]),
        ("activityProbability", "softmax", ["dense1"], ["activityProbability"]),
    ]
    by_name = {layer.name: layer for layer in layers}
    assert list(by_name["reshape"].reshape.targetShape) == [1, 3, 1, 10]
    assert by_name["reshape"].reshape.mode == 0  # CHANNEL_FIRST
    conv = by_name["conv"].convolution
    assert (conv.outputChannels, conv.kernelChannels) == (64, 3)
    assert (list(conv.kernelSize), list(conv.stride)) == ([1, 10], [1, 10])
    assert conv.WhichOneof("ConvolutionPaddingType") == "valid" and conv.hasBias
    assert len(conv.weights.floatValue) == 64 * 3 * 1 * 10
    assert by_name["relu1"].activation.WhichOneof("NonlinearityType") == "ReLU"
    for name, start in (("hiddenIn", 0), ("cellIn", 200)):
        sliced = by_name[name].slice
        assert (sliced.startIndex, sliced.endIndex, sliced.stride, sliced.axis) == (
            start,
            start + 200,
            1,
            0,
        )
    lstm = by_name["lstm"].uniDirectionalLSTM
    assert (lstm.inputVectorSize, lstm.outputVectorSize) == (64, 200)
    assert [a.WhichOneof("NonlinearityType") for a in lstm.activations] == [
        "sigmoid",
        "tanh",
        "tanh",
    ]
    assert lstm.params.hasBiasVectors and not lstm.params.forgetBias
    assert not lstm.params.sequenceOutput and lstm.params.cellClipThreshold == 50000
    assert len(lstm.weightParams.forgetGateRecursionMatrix.floatValue) == 200 * 200
    dense0, dense1 = by_name["dense0"].innerProduct, by_name["dense1"].innerProduct
    assert (dense0.inputChannels, dense0.outputChannels, dense0.hasBias) == (200, 128, True)
    assert (dense1.inputChannels, dense1.outputChannels, dense1.hasBias) == (128, 3, False)
    assert len(dense1.bias.floatValue) == 0
    bn = by_name["bn"].batchnorm
    assert bn.channels == 128 and bn.epsilon == pytest.approx(1e-3)
    assert not bn.computeMeanVar and not bn.instanceNormalization


def test_batchnorm_exports_the_trained_running_statistics(tmp_path, make_classifier):
    classifier, path = _export(tmp_path, make_classifier)
    bn = {layer.name: layer for layer in _load(path).neuralNetworkClassifier.layers}["bn"].batchnorm
    net_bn = classifier.net.bn
    for field, tensor in (
        ("gamma", net_bn.weight),
        ("beta", net_bn.bias),
        ("mean", net_bn.running_mean),
        ("variance", net_bn.running_var),
    ):
        np.testing.assert_array_equal(getattr(bn, field).floatValue, tensor.detach().numpy())


def test_metadata_has_turicreate_keys_and_motionlab_version(tmp_path, make_classifier):
    _, path = _export(tmp_path, make_classifier, run_id="run-42")
    metadata = _load(path).description.metadata

    assert dict(metadata.userDefined) == {
        "features": "acc_x,acc_y,acc_z",
        "max_iterations": "7",
        "prediction_window": "10",
        "session_id": "session",
        "target": "activity",
        "type": "activity_classifier",
        "version": "2",
        "com.github.motionlab.version": "0.1.0",
        "motionlab.run_id": "run-42",
    }
    assert metadata.shortDescription == "Activity classifier created by motionlab (version 0.1.0)"
    assert (metadata.author, metadata.license, metadata.versionString) == ("", "", "")


def test_description_author_license_and_version_are_settable_per_run(tmp_path, make_classifier):
    _, path = _export(
        tmp_path,
        make_classifier,
        short_description="Gesture classifier for the watch app",
        author="Motion team",
        license="Apache-2.0",
        version_string="3",
    )
    metadata = _load(path).description.metadata

    assert metadata.shortDescription == "Gesture classifier for the watch app"
    assert (metadata.author, metadata.license, metadata.versionString) == (
        "Motion team",
        "Apache-2.0",
        "3",
    )
    assert "motionlab.run_id" not in metadata.userDefined


def test_single_feature_model_reshapes_its_input_without_a_concat(tmp_path, make_classifier):
    classifier = make_classifier(classes=["a", "b"], features=["magnitude"], prediction_window=3)
    spec = _load(export_model(classifier, tmp_path / "m.mlmodel"))

    first = spec.neuralNetworkClassifier.layers[0]
    assert (first.name, list(first.input)) == ("reshape", ["magnitude"])
    assert list(first.reshape.targetShape) == [1, 1, 1, 3]
    assert (
        check_interface(
            spec, features=["magnitude"], target="activity", prediction_window=3, classes=["a", "b"]
        )
        == []
    )


def test_file_on_disk_stays_specification_version_1(tmp_path, make_classifier):
    _, path = _export(tmp_path, make_classifier)
    raw = Model_pb2.Model()
    raw.ParseFromString(path.read_bytes())
    assert raw.specificationVersion == 1


def test_reexport_replaces_the_file_atomically_and_leaves_no_temp_files(tmp_path, make_classifier):
    classifier, path = _export(tmp_path, make_classifier)
    first = path.read_bytes()
    with pytest.raises(ValueError):  # a failed export must not touch the existing file
        export_coreml(
            classifier.net,
            path,
            classes=["only", "two"],  # the network has three classes
            features=FEATURES,
            target="activity",
            session_id="session",
            prediction_window=10,
            max_iterations=7,
        )
    assert path.read_bytes() == first
    export_model(classifier, path, run_id="run-2")

    assert os.listdir(tmp_path) == ["Gestures.mlmodel"]
    assert path.read_bytes() != first
    assert stat.S_IMODE(path.stat().st_mode) & 0o044 == 0o044  # readable by the service


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"features": ["x", "y"]}, "features"),
        ({"classes": ["a", "b"]}, "classes"),
        ({"prediction_window": 5}, "window"),
        ({"classes": [1, "1", 2]}, "not unique"),
        ({"features": ["x", "conv", "z"]}, "reserved"),
        ({"features": ["x", "y", "stateIn"]}, "collide"),
        ({"target": "x"}, "collide"),
    ],
    ids=[
        "feature_count",
        "class_count",
        "window",
        "labels_clash_as_strings",
        "reserved_blob_name",
        "state_name",
        "target_is_feature",
    ],
)
def test_export_refuses_metadata_that_does_not_fit_the_network(make_net, overrides, message):
    net = make_net(num_features=3, num_classes=3, prediction_window=10)
    arguments = {
        "classes": ["a", "b", "c"],
        "features": ["x", "y", "z"],
        "target": "activity",
        "session_id": "session",
        "prediction_window": 10,
        "max_iterations": 1,
    }
    with pytest.raises(ValueError, match=message):
        build_spec(net, **(arguments | overrides))
