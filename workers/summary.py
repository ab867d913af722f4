"""Flat summary metrics of a run (for listing and sorting) and the overfit check's verdict."""

from __future__ import annotations

from typing import Any

from core.params import RunParams

SUMMARY_METRICS = ("accuracy", "precision", "recall", "f1_score", "log_loss", "auc")
OVERFIT_ACCURACY = 0.99


def summarize(metrics: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """{'train_accuracy': …, 'validation_f1_score': …, 'test_log_loss': …}."""
    return {
        f"{part}_{name}": part_metrics.get(name)
        for part, part_metrics in metrics.items()
        for name in SUMMARY_METRICS
    }


def overfit_report(params: RunParams, summary: dict[str, Any]) -> dict[str, Any] | None:
    if params.overfit_check is None:
        return None
    accuracy = summary.get("train_accuracy")
    return {
        "sessions": params.overfit_check.sessions,
        "train_accuracy": accuracy,
        "threshold": OVERFIT_ACCURACY,
        "reached": accuracy is not None and accuracy >= OVERFIT_ACCURACY,
    }
