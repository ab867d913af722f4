"""Acceptance: the exported file predicts, window by window, what the torch model predicts.

Core ML cannot run on Linux, so the NumPy evaluator executes the exported spec. Streaming with
the state carried must equal the torch streaming step on every window, and equal batch predict
(state reset every 20 windows, Turi Create's semantics) on the first chunk.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pyarrow.compute as pc
import pyarrow.csv
import pytest

from core.recipes import RECIPES
from tests.support.oracles.coreml_evaluator import CoreMLEvaluator
from tests.support.oracles.coreml_interface import require_interface
from tests.support.paths import BASICMOTIONS_CSV
from workers.engines.torch import Hyperparameters, MotionData, train
from workers.engines.torch.stream import stream_step
from workers.exports.coreml.export import export_model

pytestmark = pytest.mark.unit

SENSORS = ["accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ"]

TOLERANCE = 1e-4
SCENARIOS = [
    pytest.param(["accel"], ["run", "walk"], 5, id="one_feature_two_classes"),
    pytest.param(["x", "y", "z"], [0, 1, 2, 10], 1, id="integer_classes_window_1"),
    pytest.param(
        ["x", "y"], [f"gesture_{i:02d}" for i in range(12)], 400, id="12_classes_window_400"
    ),
]


def _predict_per_window(classifier, rows: np.ndarray) -> np.ndarray:
    columns = {classifier.session_id: np.zeros(len(rows), np.int64)}
    columns |= {name: rows[:, j] for j, name in enumerate(classifier.features)}
    table = classifier.predict(columns, "probability_vector", "per_window")
    return table["probability_vector"]  # (W, C)


@pytest.mark.parametrize(("features", "classes", "prediction_window"), SCENARIOS)
def test_exported_model_streams_like_torch_and_matches_batch_predict_on_first_chunk(
    tmp_path, make_classifier, make_rows, stream_torch, features, classes, prediction_window
):
    classifier = make_classifier(
        classes=classes, features=features, prediction_window=prediction_window
    )
    # 27 full windows and a partial one (zero-padded) when the window allows it.
    num_rows = 27 * prediction_window + prediction_window // 2
    rows = make_rows(num_rows, len(features))
    path = export_model(classifier, tmp_path / "model.mlmodel", run_id="run-1")
    require_interface(
        path,
        features=features,
        target="activity",
        prediction_window=prediction_window,
        classes=classes,
    )

    streamed = CoreMLEvaluator(path).predict_session(rows)
    torch_probabilities, torch_state = stream_torch(
        partial(stream_step, classifier.net), rows, prediction_window
    )
    batch = _predict_per_window(classifier, rows)

    assert streamed.probabilities.shape == (-(-num_rows // prediction_window), len(classes))
    np.testing.assert_allclose(streamed.probabilities, torch_probabilities, atol=TOLERANCE)
    np.testing.assert_allclose(streamed.state, torch_state, atol=TOLERANCE)
    np.testing.assert_allclose(streamed.probabilities[:20], batch[:20], atol=TOLERANCE)
    best = streamed.probabilities.argmax(axis=1)
    assert streamed.labels == [str(classes[i]) for i in best]


def test_streaming_with_state_reset_every_20_windows_is_batch_predict(
    tmp_path, make_classifier, make_rows
):
    """Turi Create's predict resets the LSTM every chunk; the app never does (spec §4.5)."""
    classifier = make_classifier(classes=["a", "b", "c"], features=["x", "y"], prediction_window=4)
    rows = make_rows(47 * 4 + 3, 2)  # 48 windows: two full chunks and part of a third
    evaluator = CoreMLEvaluator(export_model(classifier, tmp_path / "model.mlmodel"))

    batch = _predict_per_window(classifier, rows)
    reset = evaluator.predict_session(rows, reset_state_every=20)
    carried = evaluator.predict_session(rows)

    np.testing.assert_allclose(reset.probabilities, batch, atol=TOLERANCE)
    np.testing.assert_allclose(carried.probabilities[:20], batch[:20], atol=TOLERANCE)
    # From window 20 on, the carried state makes the app's answers differ from predict.
    assert np.abs(carried.probabilities[20:] - batch[20:]).max() > TOLERANCE


@pytest.mark.parametrize("recipe", RECIPES)
def test_trained_basicmotions_model_exports_and_streams_like_torch(tmp_path, stream_torch, recipe):
    table = pyarrow.csv.read_csv(BASICMOTIONS_CSV)
    training = table.filter(pc.equal(table["split"], "train"))
    data = MotionData.from_columns(
        training, session_id="sessionId", target="activity", features=SENSORS
    )
    params = Hyperparameters(recipe=recipe, prediction_window=3, max_iterations=1, random_seed=7)
    classifier = train(data, params, validation=None, log=None)
    # One held-out session: 100 rows = 33 full windows and a 1-row partial one.
    session = table.filter(pc.equal(table["sessionId"], "test-000"))
    rows = np.stack([session[name].to_numpy() for name in SENSORS], axis=1).astype(np.float32)

    path = export_model(classifier, tmp_path / "BasicMotions.mlmodel", run_id="run-7")
    require_interface(
        path,
        features=SENSORS,
        target="activity",
        prediction_window=3,
        classes=["Badminton", "Running", "Standing", "Walking"],
    )
    evaluator = CoreMLEvaluator(path)
    streamed = evaluator.predict_session(rows)
    torch_probabilities, _ = stream_torch(partial(stream_step, classifier.net), rows, 3)
    batch = _predict_per_window(classifier, rows)

    assert streamed.probabilities.shape == (34, 4)
    np.testing.assert_allclose(streamed.probabilities, torch_probabilities, atol=TOLERANCE)
    np.testing.assert_allclose(streamed.probabilities[:20], batch[:20], atol=TOLERANCE)
    reset = evaluator.predict_session(rows, reset_state_every=20)
    np.testing.assert_allclose(reset.probabilities, batch, atol=TOLERANCE)
