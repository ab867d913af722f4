"""Sweep API schemas: a grid of run fields → one run per combination."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.runs.schemas import PRINTABLE, RunRead

# The documented limit: combinations (runs) one sweep may create. Beyond it: 422.
MAX_SWEEP_RUNS = 100
# The best run is chosen on validation, never on test. log_loss: lower is better.
ValidationMetric = Literal[
    "validation_accuracy",
    "validation_f1_score",
    "validation_precision",
    "validation_recall",
    "validation_auc",
    "validation_log_loss",
]
LOWER_IS_BETTER = frozenset({"validation_log_loss"})
EXAMPLE: dict[str, Any] = {
    "experiment": "window-sweep",
    "run": {"split": {"strategy": "session", "valid_fraction": 0.25}, "max_iterations": 5},
    "grid": {"prediction_window": [10, 20], "recipe": ["motionlab", "turicreate"]},
    "metric": "validation_accuracy",
}


class SweepCreate(BaseModel):
    """One run per combination of the grid's values, each from `run` with those fields set."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [dict(EXAMPLE)]})

    experiment: str = Field(..., min_length=1, max_length=256, pattern=PRINTABLE)
    run: dict[str, Any] = Field(
        {},
        description="The run request (POST /v1/runs body, without experiment) every "
        "combination starts from",
    )
    grid: dict[str, list[Any]] = Field(
        ...,
        min_length=1,
        description='Run field → the values to try, e.g. {"prediction_window": [10, 20, 50], '
        f'"random_seed": [1, 2, 3]}}; at most {MAX_SWEEP_RUNS} combinations in all',
    )
    metric: ValidationMetric = Field(
        "validation_accuracy", description="How the best run is chosen (validation, never test)"
    )


class BestRun(BaseModel):
    run_id: str
    value: float
    values: dict[str, Any] = Field(description="The run's grid values")


class SweepRead(BaseModel):
    id: str
    experiment: str
    run: dict[str, Any]
    grid: dict[str, list[Any]]
    metric: str
    created_at: datetime
    status_counts: dict[str, int]
    best: BestRun | None = Field(
        None, description="The succeeded run with the best validation metric; None until one"
    )
    runs: list[RunRead]
