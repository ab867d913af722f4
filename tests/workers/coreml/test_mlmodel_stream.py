"""The .mlmodel stepped in NumPy (live classification of Turi Create runs) is the network the
file holds: the same windows as the torch model it was exported from and as the Core ML
reference evaluator, state carried across 25 windows, several streams stepped together."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from tests.support.oracles.coreml_evaluator import CoreMLEvaluator
from workers.engines.torch.stream import stream_step
from workers.exports.coreml.export import export_model
from workers.exports.coreml.network import read_network
from workers.exports.coreml.stream import NetworkStreamer
from workers.model.shape import STATE_SIZE

pytestmark = pytest.mark.unit


def numpy_stream(streamer: NetworkStreamer, rows: np.ndarray, window: int):
    """One stream, a window a call, stateOut → stateIn, the last window zero-padded."""
    num_windows = -(-len(rows) // window)
    padded = np.zeros((num_windows * window, rows.shape[1]))
    padded[: len(rows)] = rows
    state = np.zeros((1, STATE_SIZE))
    probabilities = []
    for index in range(num_windows):
        p, state = streamer.step_many(padded[None, index * window : (index + 1) * window], state)
        probabilities.append(p[0])
    return np.array(probabilities), state[0]


@pytest.mark.parametrize(
    ("features", "classes", "prediction_window"),
    [(["accel"], ["run", "walk"], 5), (["ax", "ay", "az", "gx", "gy", "gz"], list("abcd"), 50)],
)
def test_the_stepped_file_streams_like_torch_and_the_reference_evaluator(
    tmp_path, make_classifier, make_rows, stream_torch, features, classes, prediction_window
):
    classifier = make_classifier(
        classes=classes, features=features, prediction_window=prediction_window
    )
    rows = make_rows(25 * prediction_window + 2, len(features))
    mlmodel = export_model(classifier, tmp_path / "model.mlmodel", run_id="run-1")
    streamer = NetworkStreamer(read_network(mlmodel))
    assert (streamer.features, streamer.classes) == (features, [str(c) for c in classes])
    assert streamer.prediction_window == prediction_window

    probabilities, state = numpy_stream(streamer, rows, prediction_window)
    core_ml = CoreMLEvaluator(mlmodel).predict_session(rows)
    torch_probabilities, torch_state = stream_torch(
        partial(stream_step, classifier.net), rows, prediction_window
    )
    assert len(probabilities) == 26
    np.testing.assert_allclose(probabilities, core_ml.probabilities, rtol=0, atol=1e-5)
    np.testing.assert_allclose(probabilities, torch_probabilities, rtol=0, atol=1e-5)
    np.testing.assert_allclose(state, core_ml.state, rtol=0, atol=1e-5)
    np.testing.assert_allclose(state, torch_state, rtol=0, atol=1e-5)


def test_streams_stepped_together_equal_each_stepped_alone(tmp_path, make_classifier, make_rows):
    classifier = make_classifier(classes=["a", "b", "c"], features=["x", "y"], prediction_window=8)
    streamer = NetworkStreamer(read_network(export_model(classifier, tmp_path / "m.mlmodel")))
    windows = make_rows(3 * 8, 2).reshape(3, 8, 2)
    states = np.random.default_rng(1).normal(0, 0.5, (3, STATE_SIZE))
    together, together_states = streamer.step_many(windows, states)
    for index in range(3):
        alone, alone_state = streamer.step_many(
            windows[index : index + 1], states[index : index + 1]
        )
        np.testing.assert_allclose(together[index], alone[0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(together_states[index], alone_state[0], rtol=0, atol=1e-12)
