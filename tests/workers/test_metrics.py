"""classification_metrics against values worked out by hand (spec §3.4 rules)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from workers.metrics import classification_metrics

pytestmark = pytest.mark.unit

# Six rows, three classes. Predictions (argmax): a, b, b, a, c, a.
CLASSES = ["a", "b", "c"]
TARGETS = ["a", "a", "b", "b", "c", "c"]
PROBABILITIES = [
    [0.7, 0.2, 0.1],
    [0.2, 0.5, 0.3],
    [0.1, 0.8, 0.1],
    [0.5, 0.3, 0.2],
    [0.1, 0.2, 0.7],
    [0.6, 0.3, 0.1],
]


def test_three_class_metrics_match_hand_computed_values():
    metrics = classification_metrics(TARGETS, PROBABILITIES, CLASSES)
    assert metrics["accuracy"] == pytest.approx(3 / 6)
    # precision a 1/3, b 1/2, c 1/1; recall 1/2 each; f1 a 0.4, b 0.5, c 2/3.
    assert metrics["precision"] == pytest.approx((1 / 3 + 1 / 2 + 1) / 3)
    assert metrics["recall"] == pytest.approx(0.5)
    assert metrics["f1_score"] == pytest.approx((0.4 + 0.5 + 2 / 3) / 3)
    p_true = [0.7, 0.2, 0.8, 0.3, 0.7, 0.1]
    assert metrics["log_loss"] == pytest.approx(-sum(math.log(p) for p in p_true) / 6)
    # One-vs-rest, counting positive-negative pairs (ties ½): a 6/8, b 6.5/8, c 5/8.
    assert metrics["auc"] == pytest.approx((6 / 8 + 6.5 / 8 + 5 / 8) / 3)
    assert metrics["num_examples"] == 6
    assert metrics["warnings"] == []


def test_confusion_matrix_lists_observed_pairs_sorted():
    metrics = classification_metrics(TARGETS, PROBABILITIES, CLASSES)
    pairs = [(r["class"], r["predicted_class"], r["count"]) for r in metrics["confusion_matrix"]]
    assert pairs == [
        ("a", "a", 1),
        ("a", "b", 1),
        ("b", "a", 1),
        ("b", "b", 1),
        ("c", "a", 1),
        ("c", "c", 1),
    ]


def test_report_by_class_counts_hits_false_alarms_and_misses():
    report = classification_metrics(TARGETS, PROBABILITIES, CLASSES)["report_by_class"]
    assert report[0] == {
        "class": "a",
        "actual_count": 2,
        "predicted_correctly": 1,
        "predicted_this_incorrectly": 2,
        "missed_predicting_this": 1,
        "precision": pytest.approx(1 / 3),
        "recall": pytest.approx(1 / 2),
    }
    assert [row["class"] for row in report] == CLASSES


def test_two_observed_labels_report_the_largest_label_not_the_average():
    # Predictions 1, 1, 0, 1, 0. Label 1: tp 1, fp 2, fn 1. Label 0: tp 1, fp 1, fn 2.
    column_1 = np.array([0.6, 0.7, 0.1, 0.9, 0.2])
    probabilities = np.column_stack([1 - column_1, column_1])
    metrics = classification_metrics([0, 0, 0, 1, 1], probabilities, [0, 1])
    assert metrics["precision"] == pytest.approx(1 / 3)
    assert metrics["recall"] == pytest.approx(1 / 2)
    assert metrics["f1_score"] == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    # AUC of class index 1 only: positives 0.9, 0.2 against negatives 0.6, 0.7, 0.1 → 4/6.
    assert metrics["auc"] == pytest.approx(4 / 6)


def test_undefined_precision_or_recall_is_skipped_and_f1_falls_back():
    # Label c is predicted once but never a target: recall undefined, f1 = precision = 0.
    probabilities = [[0.9, 0.05, 0.05], [0.1, 0.1, 0.8], [0.1, 0.8, 0.1]]
    metrics = classification_metrics(["a", "a", "b"], probabilities, CLASSES)
    assert metrics["precision"] == pytest.approx((1 + 1 + 0) / 3)
    assert metrics["recall"] == pytest.approx((0.5 + 1) / 2)
    assert metrics["f1_score"] == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert metrics["report_by_class"][2]["recall"] is None


def test_class_absent_from_targets_is_left_out_of_auc_with_a_warning_not_nan():
    targets, probabilities = TARGETS[:4], PROBABILITIES[:4]  # no 'c' rows
    metrics = classification_metrics(targets, probabilities, CLASSES)
    assert math.isfinite(metrics["auc"])
    assert any("'c' is absent" in warning for warning in metrics["warnings"])
    # a: positives 0.7, 0.2 vs negatives 0.1, 0.5 → 3/4; b: 0.8, 0.3 vs 0.2, 0.5 → 3/4.
    assert metrics["auc"] == pytest.approx(0.75)


def test_label_outside_the_classes_counts_as_probability_zero():
    metrics = classification_metrics(["a", "z"], [[0.9, 0.1, 0.0], [0.9, 0.1, 0.0]], CLASSES)
    assert metrics["log_loss"] == pytest.approx((-math.log(0.9) - math.log(1e-15)) / 2)
    assert metrics["accuracy"] == 0.5
    assert ("z", "a", 1) in [
        (r["class"], r["predicted_class"], r["count"]) for r in metrics["confusion_matrix"]
    ]


def test_tied_scores_give_an_auc_of_one_half():
    probabilities = np.full((4, 2), 0.5)
    metrics = classification_metrics([0, 1, 0, 1], probabilities, [0, 1])
    assert metrics["auc"] == pytest.approx(0.5)


def test_results_are_plain_json_and_int_labels_stay_ints():
    targets = np.array([0, 1, 2, 2])
    probabilities = np.eye(3)[[0, 1, 2, 1]]
    metrics = classification_metrics(targets, probabilities, [0, 1, 2])
    assert json.loads(json.dumps(metrics)) == metrics
    assert all(type(row["class"]) is int for row in metrics["report_by_class"])


def test_mismatched_shapes_and_label_types_are_rejected():
    with pytest.raises(ValueError, match="expected"):
        classification_metrics(["a", "b"], [[1.0, 0.0, 0.0]], CLASSES)
    with pytest.raises(ValueError, match="integer labels but the classes are string"):
        classification_metrics([0, 1], np.eye(3)[:2], CLASSES)


def test_object_arrays_of_labels_give_plain_labels():
    targets = np.array(["a", "b", "b"], dtype=object)  # as pyarrow's to_numpy returns strings
    metrics = classification_metrics(targets, np.eye(3)[[0, 1, 0]], np.array(CLASSES, object))
    assert metrics["confusion_matrix"][0] == {"class": "a", "predicted_class": "a", "count": 1}
    assert json.loads(json.dumps(metrics)) == metrics
