"""Prediction results → the JSON answer, built directly from NumPy columns.

The route sends these bytes as they are: no Pydantic / jsonable_encoder pass over what can be
hundreds of thousands of values.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from service.predictions.rows import Rows

COMPACT: dict[str, Any] = {"separators": (",", ":")}
WINDOW_COLUMNS = ("session_id", "window", "prediction_id", "first_row", "num_rows")


def prediction_json(
    header: dict[str, Any], rows: Rows, result: np.ndarray | dict[str, np.ndarray], output: str
) -> bytes:
    """{**header, num_rows, num_predictions, predictions: {column: [...]}} as UTF-8 bytes."""
    columns = result if isinstance(result, dict) else {output: result}
    columns = dict(columns)
    if "session_id" in columns:
        # The engine saw session codes; answer with the ids the client sent (or null).
        names = np.asarray(rows.session_names, dtype=object)
        columns["session_id"] = names[columns["session_id"]]
    count = len(next(iter(columns.values())))
    head = json.dumps({**header, "num_rows": rows.num_rows, "num_predictions": count}, **COMPACT)
    body = ",".join(f"{json.dumps(name)}:{_json_array(values)}" for name, values in columns.items())
    return f'{head[:-1]},"predictions":{{{body}}}}}'.encode()


def _json_array(values: np.ndarray) -> str:
    return json.dumps(values.tolist(), **COMPACT)
