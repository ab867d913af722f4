"""Classifier evaluation metrics, per row, with Turi Create 6.4's rules (spec §3.4).

Shared by the torch engine and by the Turi Create engine's per-row probabilities, so the two
are scored by the same code. Every value is a plain JSON type (str / int / float / None /
list / dict); class labels keep the type they were given (ints stay ints).

Where Turi Create differs on purpose:
* auc is exact (rank based, ties averaged) instead of a 1000-bin approximation;
* a class absent from the targets has no AUC; it is left out of the macro average and a line
  in `warnings` says so, instead of turning the whole average into NaN;
* undefined per-class precision / recall (0/0) in `report_by_class` is None, not NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

LOG_LOSS_EPSILON = 1e-15


def classification_metrics(
    targets: Sequence[Any] | np.ndarray,
    probabilities: np.ndarray,
    classes: Sequence[Any],
) -> dict[str, Any]:
    """Score per-row class probabilities (N, C), columns in `classes` order, against targets (N,).

    Returns accuracy, precision, recall, f1_score (macro), log_loss, auc, confusion_matrix,
    report_by_class, num_examples and warnings. Targets may hold labels the model never saw:
    they count as wrong predictions with probability 0.
    """
    targets = _label_array(targets)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    class_array = _label_array(list(classes))
    _check_inputs(targets, probabilities, class_array)

    target_index = _index_in(class_array, targets)  # (N,) -1 for a label outside `classes`
    predicted_index = probabilities.argmax(axis=1)  # (N,) ties → lowest class index
    predicted = class_array[predicted_index]
    warnings: list[str] = []

    # Labels seen in targets ∪ predictions, sorted; their confusion counts drive P / R / F1.
    labels = np.unique(np.concatenate([targets, predicted]))
    num_labels = len(labels)
    pair_code = np.searchsorted(labels, targets) * num_labels + np.searchsorted(labels, predicted)
    confusion = np.bincount(pair_code, minlength=num_labels * num_labels)
    confusion = confusion.reshape(num_labels, num_labels)  # (actual, predicted)
    true_positive = np.diag(confusion)
    false_positive = confusion.sum(axis=0) - true_positive
    false_negative = confusion.sum(axis=1) - true_positive

    precision = [
        _ratio(int(tp), int(tp + fp)) for tp, fp in zip(true_positive, false_positive, strict=True)
    ]
    recall = [
        _ratio(int(tp), int(tp + fn)) for tp, fn in zip(true_positive, false_negative, strict=True)
    ]
    f1 = [_f1(p, r) for p, r in zip(precision, recall, strict=True)]

    return {
        "accuracy": float(np.mean(target_index == predicted_index)),
        "precision": _macro(precision, num_labels),
        "recall": _macro(recall, num_labels),
        "f1_score": _macro(f1, num_labels),
        "log_loss": _log_loss(probabilities, target_index),
        "auc": _macro_auc(probabilities, target_index, class_array, warnings),
        "confusion_matrix": _confusion_rows(confusion, labels),
        "report_by_class": [
            {
                "class": labels[i].item(),
                "actual_count": int(true_positive[i] + false_negative[i]),
                "predicted_correctly": int(true_positive[i]),
                "predicted_this_incorrectly": int(false_positive[i]),
                "missed_predicting_this": int(false_negative[i]),
                "precision": precision[i],
                "recall": recall[i],
            }
            for i in range(num_labels)
        ],
        "num_examples": len(targets),
        "warnings": warnings,
    }


def _check_inputs(targets: np.ndarray, probabilities: np.ndarray, classes: np.ndarray) -> None:
    if targets.ndim != 1 or len(targets) == 0:
        raise ValueError(f"targets must be a non-empty 1-D array; got shape {targets.shape}")
    if probabilities.shape != (len(targets), len(classes)):
        raise ValueError(
            f"probabilities have shape {probabilities.shape}; expected "
            f"({len(targets)}, {len(classes)}) = (rows, classes)"
        )
    if _label_kind(targets) != _label_kind(classes):
        raise ValueError(
            f"targets hold {_label_kind(targets)} labels but the classes are "
            f"{_label_kind(classes)}: {classes.tolist()[:5]}"
        )


def _label_array(labels: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Labels as an int or str array; object arrays (e.g. from pyarrow) are re-typed."""
    array = np.asarray(labels)
    if array.dtype.kind == "O":
        array = np.asarray(array.tolist())  # Python ints → int64, str → <U
    return array


def _label_kind(labels: np.ndarray) -> str:
    return "integer" if labels.dtype.kind in "iu" else "string"


def _index_in(classes: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Position of each label in `classes` (any order), -1 where a label is not a class."""
    order = np.argsort(classes, kind="stable")
    position = np.searchsorted(classes[order], labels)
    clipped = np.minimum(position, len(classes) - 1)
    found = classes[order][clipped] == labels
    return np.where(found, order[clipped], -1)


def _ratio(numerator: int, denominator: int) -> float | None:
    return float(numerator) / float(denominator) if denominator > 0 else None


def _f1(precision: float | None, recall: float | None) -> float | None:
    # Turi Create's compute_fbeta_score: an undefined half falls back to the other one.
    if precision is None:
        return recall
    if recall is None:
        return precision
    return 2.0 * precision * recall / max(1e-20, precision + recall)


def _macro(scores: list[float | None], num_labels: int) -> float | None:
    # Exactly two observed labels: Turi Create reports the score of the "largest" label.
    if num_labels == 2:
        return scores[-1]
    defined = [score for score in scores if score is not None]
    return float(np.mean(defined)) if defined else None


def _log_loss(probabilities: np.ndarray, target_index: np.ndarray) -> float:
    rows = np.arange(len(target_index))
    p_true = np.where(target_index >= 0, probabilities[rows, np.maximum(target_index, 0)], 0.0)
    p_true = np.clip(p_true, LOG_LOSS_EPSILON, 1.0 - LOG_LOSS_EPSILON)
    return float(np.mean(-np.log(p_true)))


def _macro_auc(
    probabilities: np.ndarray, target_index: np.ndarray, classes: np.ndarray, warnings: list[str]
) -> float | None:
    """One-vs-rest AUC averaged over classes; for two classes the AUC of class index 1."""
    scored = [1] if len(classes) == 2 else range(len(classes))
    aucs = []
    for c in scored:
        positive = target_index == c
        num_positive = int(positive.sum())
        num_negative = len(positive) - num_positive
        if num_positive == 0 or num_negative == 0:
            side = "absent from" if num_positive == 0 else "the only class in"
            warnings.append(
                f"class {classes[c].item()!r} is {side} the targets, so its AUC is undefined "
                "and left out of the average"
            )
            continue
        ranks = _average_ranks(probabilities[:, c])
        # Mann-Whitney U: P(score of a random positive > score of a random negative), ties ½.
        u = ranks[positive].sum() - num_positive * (num_positive + 1) / 2.0
        aucs.append(u / (num_positive * num_negative))
    if not aucs:
        warnings.append("auc is undefined: no class has both positive and negative rows")
        return None
    return float(np.mean(aucs))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of `values`, tied values sharing their average rank."""
    order = np.argsort(values)  # ties are averaged below, so stability is not needed
    ordered = values[order]
    starts_group = np.r_[True, ordered[1:] != ordered[:-1]]
    group = np.cumsum(starts_group) - 1
    group_start = np.flatnonzero(starts_group)
    group_end = np.r_[group_start[1:], len(values)]  # exclusive
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = ((group_start + 1 + group_end) / 2.0)[group]
    return ranks


def _confusion_rows(confusion: np.ndarray, labels: np.ndarray) -> list[dict[str, Any]]:
    actual, predicted = np.nonzero(confusion)  # row-major: sorted by (class, predicted_class)
    return [
        {
            "class": labels[a].item(),
            "predicted_class": labels[p].item(),
            "count": int(confusion[a, p]),
        }
        for a, p in zip(actual, predicted, strict=True)
    ]
