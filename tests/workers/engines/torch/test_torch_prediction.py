"""predict / classify / predict_topk / evaluate / step on a trained model (spec §3, §6.2)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from workers.engines.torch import MotionData, MotionDataError

pytestmark = pytest.mark.unit

TURI_CREATE_FIELDS = {
    "batch_size",
    "classes",
    "features",
    "max_iterations",
    "num_classes",
    "num_examples",
    "num_features",
    "num_sessions",
    "prediction_window",
    "random_seed",
    "session_id",
    "target",
    "training_accuracy",
    "training_auc",
    "training_confusion_matrix",
    "training_f1_score",
    "training_iterations",
    "training_log_loss",
    "training_precision",
    "training_recall",
    "training_report_by_class",
    "training_time",
}


def expected_windows(data, prediction_window):
    return int(sum(-(-length // prediction_window) for length in data.session_lengths))


@pytest.mark.parametrize("output_type", ["class", "probability_vector"])
def test_predict_per_window_gives_one_entry_per_window(model, sessions, output_type):
    result = model.predict(sessions, output_type, output_frequency="per_window")
    num_windows = expected_windows(sessions, 5)
    assert num_windows == 202
    assert {len(column) for column in result.values()} == {num_windows}
    assert set(result) == {
        "session_id",
        "window",
        "prediction_id",
        "first_row",
        "num_rows",
        output_type,
    }
    assert result["num_rows"].sum() == sessions.num_rows


def test_predict_per_row_lines_up_with_the_input_rows(model, sessions):
    classes = model.predict(sessions)
    probabilities = model.predict(sessions, "probability_vector")
    assert classes.shape == (sessions.num_rows,)
    assert probabilities.shape == (sessions.num_rows, 9)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(classes, np.asarray(model.classes)[probabilities.argmax(1)])
    # Each row repeats the prediction of the window holding it (spec §3.3).
    per_window = model.predict(sessions, "probability_vector", "per_window")
    expanded = np.repeat(per_window["probability_vector"], per_window["num_rows"], axis=0)
    np.testing.assert_array_equal(probabilities, expanded)


def test_classify_gives_the_best_class_and_its_probability(model, sessions):
    per_row = model.classify(sessions)
    probabilities = model.predict(sessions, "probability_vector")
    np.testing.assert_array_equal(per_row["class"], model.predict(sessions))
    np.testing.assert_allclose(per_row["probability"], probabilities.max(axis=1))
    per_window = model.classify(sessions, output_frequency="per_window")
    assert len(per_window["class"]) == len(per_window["probability"]) == 202


@pytest.mark.parametrize("output_type", ["probability", "rank"])
def test_predict_topk_gives_k_entries_per_window_best_first(model, sessions, output_type):
    result = model.predict_topk(sessions, output_type, output_frequency="per_window")
    assert {len(column) for column in result.values()} == {202 * 3}
    if output_type == "rank":
        assert result["rank"].tolist()[:6] == [0, 1, 2, 0, 1, 2]  # a real rank, not class index
    else:
        best_first = result["probability"].reshape(-1, 3)
        assert (np.diff(best_first, axis=1) <= 0).all()
    best = model.classify(sessions, output_frequency="per_window")["class"]
    np.testing.assert_array_equal(result["class"][::3], best)


def test_predict_topk_per_row_has_row_ids_and_k_up_to_the_class_count(model, sessions):
    head = sessions.take_rows(np.arange(sessions.num_rows) < 100)
    result = model.predict_topk(head, k=5)
    assert len(result["row_id"]) == 100 * 5
    assert result["row_id"][:6].tolist() == [0, 0, 0, 0, 0, 1]
    capped = model.predict_topk(head, k=50)
    assert len(capped["class"]) == 100 * 9


def test_predict_topk_rejects_invalid_k(model, sessions):
    for k in (-1, 0):
        with pytest.raises(ValueError, match="k must be at least 1"):
            model.predict_topk(sessions, k=k)
    with pytest.raises(TypeError, match="k must be an integer"):
        model.predict_topk(sessions, k=[])


def test_invalid_output_options_are_rejected(model, sessions):
    with pytest.raises(ValueError, match="output_type"):
        model.predict(sessions, output_type="probability")
    with pytest.raises(ValueError, match="output_frequency"):
        model.classify(sessions, output_frequency="per_session")


def test_classify_with_a_missing_feature_column_names_it(model, sessions, to_columns):
    columns = to_columns(sessions)
    del columns["X2-r"]
    with pytest.raises(MotionDataError, match=r"missing column\(s\) \['X2-r'\]"):
        model.classify(columns)
    with pytest.raises(MotionDataError, match=r"missing feature column\(s\) \['X2-r'\]"):
        model.classify(sessions.with_features(["X1-r", "X3-r"]))


def test_predict_accepts_columns_in_any_order_with_extra_columns(model, sessions, to_columns):
    columns = to_columns(sessions)
    shuffled = {"extra": np.zeros(sessions.num_rows)} | dict(reversed(list(columns.items())))
    expected = model.predict(sessions, "probability_vector")
    np.testing.assert_array_equal(model.predict(pa.table(shuffled), "probability_vector"), expected)


def test_short_session_still_gets_one_prediction(model, make_sessions):
    short = make_sessions([3, 12], seed=9)
    per_window = model.predict(short, output_frequency="per_window")
    assert per_window["num_rows"].tolist() == [3, 5, 5, 2]
    assert per_window["session_id"].tolist() == [0, 1, 1, 1]
    assert len(model.predict(short)) == 15


def test_prediction_id_is_the_chunk_index_and_window_the_window_index(model, make_sessions):
    long_session = make_sessions([5 * 45])
    result = model.predict(long_session, output_frequency="per_window")
    assert result["window"].tolist() == list(range(45))
    assert result["prediction_id"].tolist() == [0] * 20 + [1] * 20 + [2] * 5
    assert result["first_row"].tolist() == list(range(0, 225, 5))


def test_evaluate_with_a_class_missing_from_the_targets_still_reports_every_metric(model, sessions):
    without_class_0 = sessions.take_rows(sessions.targets != 0)
    metrics = model.evaluate(without_class_0)
    for key in ("accuracy", "auc", "precision", "recall", "f1_score", "log_loss"):
        assert isinstance(metrics[key], float) and np.isfinite(metrics[key]), key
    assert metrics["confusion_matrix"] and metrics["report_by_class"]
    assert any("class 0 is absent" in warning for warning in metrics["warnings"])
    json.dumps(metrics)


def test_evaluate_needs_targets(model, sessions):
    unlabelled = MotionData(
        session_ids=sessions.session_ids,
        features=sessions.features,
        feature_names=sessions.feature_names,
    )
    with pytest.raises(MotionDataError, match="target column 'activity_label'"):
        model.evaluate(unlabelled)


def test_fields_match_turi_create_without_validation(model):
    assert set(model.fields()) == TURI_CREATE_FIELDS
    for field in model.fields():
        getattr(model, field)
    with pytest.raises(AttributeError):
        model.validation_accuracy  # noqa: B018


def test_field_values_describe_the_training_run(model, sessions):
    assert model.features == list(sessions.feature_names)
    assert model.target == "activity_label" and model.session_id == "session_id"
    assert model.prediction_window == 5 and model.batch_size == 32
    assert model.max_iterations == 3 and model.training_iterations == 3
    assert model.random_seed == 86
    assert model.num_sessions == 3 and model.num_examples == 1000
    assert model.num_features == 3 and model.num_classes == 9
    assert model.classes == sorted(np.unique(sessions.targets).tolist())
    assert all(type(label) is int for label in model.classes)
    assert 0 <= model.training_accuracy <= 1
    assert isinstance(model.training_log_loss, float)
    assert model.training_time > 0


def test_streamed_windows_match_batch_predict_for_the_first_20_windows(model, sessions):
    per_window = model.predict(sessions, "probability_vector", "per_window")
    state = np.zeros(400)
    streamed = []
    for window in range(25):
        rows = sessions.features[window * 5 : (window + 1) * 5]
        probabilities, state = model.step(rows, state)
        streamed.append(probabilities)
    streamed = np.array(streamed)
    np.testing.assert_allclose(streamed[:20], per_window["probability_vector"][:20], atol=1e-5)
    # After 20 windows batch predict resets the LSTM state; the stream carries it on.
    assert not np.allclose(streamed[20:], per_window["probability_vector"][20:25], atol=1e-5)
