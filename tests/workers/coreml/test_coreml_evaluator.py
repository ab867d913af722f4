"""The NumPy evaluator: loud on what it does not know, right about the LSTM gates."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.support.oracles.coreml_evaluator import CoreMLEvaluator
from tests.support.oracles.coreml_interface import check_interface
from workers.engines.torch.stream import stream_step
from workers.exports.coreml.export import build_spec
from workers.exports.coreml.network import UnsupportedSpecError
from workers.model.shape import LSTM_HIDDEN

pytestmark = pytest.mark.unit

FEATURES = ["x", "y"]
CLASSES = ["idle", "shake", "tap"]
CORE_ML_GATES = ("inputGate", "forgetGate", "blockInput", "outputGate")  # torch i, f, g, o


def _spec(net):
    return build_spec(
        net,
        classes=CLASSES,
        features=FEATURES,
        target="activity",
        session_id="session",
        prediction_window=net.prediction_window,
        max_iterations=1,
    )


def _layer(spec, name):
    return next(layer for layer in spec.neuralNetworkClassifier.layers if layer.name == name)


def _lstm_only_biases(make_net, gate_biases):
    """A net whose LSTM ignores its input and state: all weights 0, per-gate constant bias."""
    net = make_net(num_features=2, num_classes=3, prediction_window=4)
    with torch.no_grad():
        for parameter in (net.lstm.weight_ih_l0, net.lstm.weight_hh_l0, net.lstm.bias_hh_l0):
            parameter.zero_()
        for gate, bias in zip(net.lstm.bias_ih_l0.chunk(4), gate_biases, strict=True):  # i,f,g,o
            gate.copy_(torch.as_tensor(bias))
    return net


def _window_inputs(rng, state):
    return {name: rng.normal(size=4) for name in FEATURES} | {"stateIn": state}


def _add_pooling(spec):
    layer = spec.neuralNetworkClassifier.layers.add()
    layer.name = "pool"
    layer.input.append("dense1")
    layer.output.append("pool")
    layer.pooling.SetInParent()


def _float16_conv_weights(spec):
    conv = _layer(spec, "conv").convolution
    count = len(conv.weights.floatValue)
    conv.weights.ClearField("floatValue")
    conv.weights.float16Value = np.zeros(count, np.float16).tobytes()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_add_pooling, "pooling"),
        (lambda s: _layer(s, "relu1").activation.leakyReLU.SetInParent(), "only ReLU"),
        (
            lambda s: setattr(_layer(s, "lstm").uniDirectionalLSTM.params, "sequenceOutput", True),
            "sequenceOutput",
        ),
        (
            lambda s: setattr(
                _layer(s, "lstm").uniDirectionalLSTM.params, "hasPeepholeVectors", True
            ),
            "hasPeepholeVectors",
        ),
        (_float16_conv_weights, "float16Value"),
        (lambda s: setattr(_layer(s, "reshape").reshape, "mode", 1), "mode"),
        (lambda s: setattr(_layer(s, "bn").batchnorm, "computeMeanVar", True), "computeMeanVar"),
        (lambda s: setattr(_layer(s, "features").concat, "sequenceConcat", True), "sequenceConcat"),
        (lambda s: setattr(_layer(s, "hiddenIn").slice, "axis", 2), "axis"),
        (lambda s: setattr(_layer(s, "conv").convolution, "nGroups", 2), "grouped"),
        (
            lambda s: s.neuralNetworkClassifier.int64ClassLabels.vector.extend([0, 1, 2]),
            "int64ClassLabels",
        ),
    ],
    ids=[
        "unknown_layer_type",
        "leaky_relu",
        "lstm_sequence_output",
        "lstm_peepholes",
        "float16_weights",
        "reshape_channel_last",
        "batchnorm_from_input_statistics",
        "sequence_concat",
        "slice_on_width",
        "grouped_convolution",
        "integer_class_labels",
    ],
)
def test_evaluator_refuses_anything_it_does_not_implement(make_net, mutate, message):
    spec = _spec(make_net(num_features=2, num_classes=3, prediction_window=4))
    CoreMLEvaluator(spec)  # the untouched export is accepted
    mutate(spec)
    with pytest.raises(UnsupportedSpecError, match=message):
        CoreMLEvaluator(spec)


def test_evaluator_rejects_missing_or_misshapen_inputs(make_net):
    evaluator = CoreMLEvaluator(_spec(make_net(num_features=2, num_classes=3, prediction_window=4)))
    window = {"x": np.zeros(4), "y": np.zeros(4)}
    with pytest.raises(ValueError, match=r"missing \['stateIn'\]"):
        evaluator.predict(window)
    with pytest.raises(ValueError, match="expected \\(400,\\)"):
        evaluator.predict(window | {"stateIn": np.zeros(200)})
    with pytest.raises(ValueError, match="expected \\(n>0, 2\\)"):
        evaluator.predict_session(np.zeros((8, 3)))


@pytest.mark.parametrize("gate", range(4), ids=["i", "f", "g", "o"])
def test_each_torch_gate_lands_in_its_core_ml_gate(make_net, gate):
    net = make_net(num_features=2, num_classes=3, prediction_window=4)
    lstm = net.lstm
    with torch.no_grad():
        for parameter in (lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0):
            keep = parameter.chunk(4)[gate].clone()
            parameter.zero_()
            parameter.chunk(4)[gate].copy_(keep)
    weights = _layer(_spec(net), "lstm").uniDirectionalLSTM.weightParams

    rows = slice(gate * LSTM_HIDDEN, (gate + 1) * LSTM_HIDDEN)
    expected = {
        "WeightMatrix": lstm.weight_ih_l0[rows],  # (200, 64)
        "RecursionMatrix": lstm.weight_hh_l0[rows],  # (200, 200)
        "BiasVector": lstm.bias_ih_l0[rows] + lstm.bias_hh_l0[rows],  # (200,), summed
    }
    for index, name in enumerate(CORE_ML_GATES):
        for suffix, tensor in expected.items():
            stored = np.array(getattr(weights, name + suffix).floatValue)
            if index == gate:
                np.testing.assert_array_equal(stored, tensor.detach().numpy().ravel())
                assert np.abs(stored).min() > 0
            else:
                assert not stored.any(), f"{name}{suffix} should be zero"


def test_open_forget_gate_and_closed_input_gate_carry_the_cell_unchanged(make_net):
    # torch order i, f, g, o: input gate shut, forget gate open, output gate open.
    net = _lstm_only_biases(make_net, [-30.0, 30.0, 0.0, 30.0])
    rng = np.random.default_rng(3)
    state = rng.uniform(-2, 2, 2 * LSTM_HIDDEN)
    inputs = _window_inputs(rng, state)

    state_out = CoreMLEvaluator(_spec(net)).predict(inputs)["stateOut"]
    hidden, cell = state_out[:LSTM_HIDDEN], state_out[LSTM_HIDDEN:]

    np.testing.assert_allclose(cell, state[LSTM_HIDDEN:], atol=1e-6)
    np.testing.assert_allclose(hidden, np.tanh(state[LSTM_HIDDEN:]), atol=1e-6)
    window = np.stack([inputs[name] for name in FEATURES], axis=1)  # (pw, F)
    np.testing.assert_allclose(stream_step(net, window, state)[1], state_out, atol=1e-6)


def test_open_input_gate_and_closed_forget_gate_write_the_block_input(make_net):
    block_bias = np.linspace(-1.5, 1.5, LSTM_HIDDEN)
    net = _lstm_only_biases(make_net, [30.0, -30.0, block_bias, 30.0])
    rng = np.random.default_rng(4)
    state = rng.uniform(-2, 2, 2 * LSTM_HIDDEN)
    inputs = _window_inputs(rng, state)

    state_out = CoreMLEvaluator(_spec(net)).predict(inputs)["stateOut"]

    np.testing.assert_allclose(state_out[LSTM_HIDDEN:], np.tanh(block_bias), atol=1e-6)
    np.testing.assert_allclose(state_out[:LSTM_HIDDEN], np.tanh(np.tanh(block_bias)), atol=1e-6)
    window = np.stack([inputs[name] for name in FEATURES], axis=1)
    np.testing.assert_allclose(stream_step(net, window, state)[1], state_out, atol=1e-6)


def test_check_interface_names_each_difference(make_net):
    spec = _spec(make_net(num_features=2, num_classes=3, prediction_window=4))
    expected = {
        "features": FEATURES,
        "target": "activity",
        "prediction_window": 4,
        "classes": CLASSES,
    }
    assert check_interface(spec, **expected) == []

    spec.specificationVersion = 4
    spec.description.input[2].type.isOptional = True
    spec.description.input[0].name = "acc_x"
    _layer(spec, "cellIn").slice.startIndex = 100
    spec.description.metadata.userDefined["version"] = "1"
    del spec.neuralNetworkClassifier.layers[-1]

    problems = check_interface(spec, **expected)
    assert "specificationVersion: 4, expected 1" in problems
    assert "input names: ['acc_x', 'y', 'stateIn'], expected ['x', 'y', 'stateIn']" in problems
    assert "input 'stateIn' optional: True, expected False" in problems
    assert "layer 'cellIn' slice.startIndex: 100, expected 200" in problems
    assert "metadata 'version': '1', expected '2'" in problems
    assert any(p.startswith("layer names: [") for p in problems)
