"""Prediction and evaluation API schemas."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from core.params import DataSelection

# The error responses of predict and evaluate routes (of runs and of registered models).
PREDICTION_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Empty or malformed body"},
    404: {"description": "Unknown run"},
    409: {"description": "The run has not succeeded, or its engine is not served"},
    413: {"description": "Body too large"},
    415: {"description": "Unsupported content type"},
    422: {"description": "Missing feature columns, non-numeric values, bad parameters"},
}

# Rows of the bundled BasicMotions sessions: what its models take (see README.md).
FEATURES = ("accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ")
SAMPLES = [
    [0.079, 0.395, -0.207, 0.029, -0.129, 0.05],
    [0.079, 0.395, -0.207, 0.029, -0.129, 0.05],
    [-0.904, -0.223, -0.401, -0.098, -0.021, -0.064],
]


def _csv(columns: list[str], rows: list[list[Any]]) -> str:
    return "\n".join(",".join(map(str, row)) for row in [columns, *rows]) + "\n"


def rows_body(*, labelled: bool) -> dict[str, Any]:
    """The request body of the routes that take rows (predict, evaluate): CSV or JSON, with
    examples; evaluate also takes a selection of stored sessions."""
    columns = ["sessionId", *(["activity"] if labelled else []), *FEATURES]
    rows = [["rec-1", *(["Walking"] if labelled else []), *values] for values in SAMPLES]
    session: dict[str, Any] = {"id": "rec-1", "columns": list(FEATURES), "samples": SAMPLES}
    if labelled:
        session["activity"] = "Walking"
    json_examples: dict[str, Any] = {"rows": {"value": session, "summary": "Rows of a session"}}
    if labelled:
        json_examples["stored"] = {"value": {"splits": ["test"]}, "summary": "Stored sessions"}
        json_examples["part"] = {"value": {"part": "test"}, "summary": "The run's test part"}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {"type": "string", "minLength": 1},
                    "example": _csv(columns, rows),
                },
                "application/json": {
                    "schema": {"type": "object", "minProperties": 1},
                    "examples": json_examples,
                },
            },
        }
    }


PREDICT_BODY = rows_body(labelled=False)
EVALUATE_BODY = rows_body(labelled=True)

OUTPUT_FREQUENCIES = ("per_row", "per_window")
OUTPUT_TYPES = ("class", "probability_vector", "topk")


@dataclass(frozen=True)
class PredictOptions:
    """Query parameters of the predict routes."""

    output_frequency: Literal["per_row", "per_window"] = "per_row"
    output_type: Literal["class", "probability_vector", "topk"] = "class"
    k: int = 3
    session_column: str = "sessionId"
    channels: dict[str, str] = field(default_factory=dict)  # ?channels= of the rows


@dataclass(frozen=True)
class EvaluateOptions:
    """Query parameters of the evaluate routes (for posted rows)."""

    session_column: str = "sessionId"
    label_column: str | None = None  # None: the model's target
    channels: dict[str, str] = field(default_factory=dict)  # ?channels= of the rows


@dataclass(frozen=True)
class RowsBody:
    """A request body of rows: its bytes (already gunzipped) and its media type."""

    data: bytes | bytearray
    media_type: str  # text/csv or application/json
    max_features: int = 1000  # MOTIONLAB_MAX_FEATURES


class EvaluateSelection(DataSelection):
    """Stored sessions to evaluate on: the filters of a run's data selection, or a run part."""

    part: Literal["train", "valid", "test"] | None = Field(
        None, description="The run's own frozen part (e.g. test); excludes the other filters"
    )


class Prediction(BaseModel):
    """The predict answer (documentation only: the route writes the JSON itself)."""

    run_id: str
    model: dict[str, Any] | None = Field(None, description="name and version, via the registry")
    output_frequency: Literal["per_row", "per_window"]
    output_type: Literal["class", "probability_vector", "topk"]
    classes: list[Any] = Field(..., description="Order of every probability_vector")
    num_rows: int = Field(..., description="Input rows")
    num_predictions: int = Field(..., description="Entries of each column of `predictions`")
    predictions: dict[str, list[Any]] = Field(
        ...,
        description="Columns of equal length. per_row: class | probability_vector; per_window "
        "adds session_id, window, prediction_id, first_row, num_rows; topk: k entries per row "
        "(row_id) or window, best first, with class, probability and rank",
    )


class Evaluation(BaseModel):
    run_id: str
    model: dict[str, Any] | None = None
    num_sessions: int
    metrics: dict[str, Any] = Field(
        ...,
        description="The run metric set: accuracy, precision, recall, f1_score, log_loss, "
        "auc, confusion_matrix, report_by_class, num_examples, warnings",
    )
