"""JSON upload body → sessions: {"sessions": [{"id", "activity", "subject", "split",
"sample_rate_hz", "columns": [...], "samples": [[...], ...]}]}."""

from __future__ import annotations

import json
from itertools import chain
from typing import Any

import numpy as np
import pyarrow as pa

from service.errors import InvalidInput, MalformedBody
from service.sessions.parsing import (
    ParsedSession,
    Payload,
    UploadOptions,
    check_feature_names,
    check_session_id,
    check_values,
    finish_session,
    samples_table,
)


def load_json(data: bytes | bytearray) -> Any:
    """The parsed document: 400 with the reason when it is not JSON a client should send."""
    try:
        return json.loads(data)
    except RecursionError:
        raise MalformedBody(
            "the JSON body is nested too deeply to parse; send a flatter document"
        ) from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, a 5,000-digit number
        raise MalformedBody(f"malformed JSON: {exc}; fix the body and send it again") from None


def parse_json(payload: Payload, options: UploadOptions, source: str | None = None):
    return parse_sessions_document(load_json(payload.take()), options, source)


def parse_sessions_document(document: Any, options: UploadOptions, source: str | None = None):
    """Our JSON upload document (already decoded) → sessions."""
    if not isinstance(document, dict) or not isinstance(document.get("sessions"), list):
        raise InvalidInput(
            'the JSON body must be an object {"sessions": [{"id", "activity", "columns", '
            '"samples"}, ...]}'
        )
    if not document["sessions"]:
        raise InvalidInput('"sessions" is empty: send at least one session')
    return [
        _parse_session(item, index, options, source)
        for index, item in enumerate(document["sessions"])
    ]


def _parse_session(
    item: Any, index: int, options: UploadOptions, source: str | None
) -> ParsedSession:
    where = f"sessions[{index}]"
    if not isinstance(item, dict):
        raise InvalidInput(f"{where} must be an object with id, activity, columns and samples")
    session_id = item.get("id", options.session_id)
    if not isinstance(session_id, str):
        raise InvalidInput(f'{where} has no "id" (a string); give each session an id')
    check_session_id(session_id, f" in {where}")
    where = f"session {session_id!r}"
    columns, samples = item.get("columns"), item.get("samples")
    if not (isinstance(columns, list) and all(isinstance(c, str) for c in columns) and columns):
        raise InvalidInput(f'{where}: "columns" must be a non-empty list of column names')
    with_timestamp = options.timestamp_column in columns
    check_feature_names(columns, options.max_features + with_timestamp, f"{where}, columns")
    if not isinstance(samples, list):
        raise InvalidInput(f'{where}: "samples" must be a list of rows (lists of numbers)')
    matrix = sample_matrix(samples, len(columns), where, columns)
    timestamps = None
    features = list(columns)
    if options.timestamp_column in columns:
        j = columns.index(options.timestamp_column)
        timestamps = matrix[:, j]
        matrix = np.delete(matrix, j, axis=1)
        del features[j]
    declared = {**options.channels, **_declared_channels(item.get("channels"), features, where)}
    rate = item.get("sample_rate_hz", options.sample_rate_hz)
    for key in ("activity", "subject", "split"):
        value = item.get(key)
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f'{where}: "{key}" must be a string')
    columns = [pa.array(matrix[:, j]) for j in range(matrix.shape[1])]
    ts = None if timestamps is None else pa.array(timestamps)
    check_values([session_id], np.zeros(1, dtype=np.int64), features, columns, ts)
    return finish_session(
        session_id=session_id,
        activity=item.get("activity", options.activity),
        subject=item.get("subject", options.subject),
        split=item.get("split", options.split),
        sample_rate_hz=rate,
        features=features,
        samples=samples_table(features, columns, ts),
        source=source,
        declared=declared,
    )


JSON_NUMBERS = frozenset({int, float})


def only_numbers(rows: list) -> bool:
    """Every value of the rows (lists) is a JSON number, not true / false, text or null, which
    NumPy would take as 1.0 / 0.0, a parsed number or NaN. One pass in C, no loop per value."""
    try:
        return set(map(type, chain.from_iterable(rows))) <= JSON_NUMBERS
    except TypeError:  # a row that is not a list
        return False


def _declared_channels(value: Any, features: list[str], where: str) -> dict[str, str]:
    """A session's own "channels": {column: "sensor.axis:unit"}, for columns it has."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidInput(
            f'{where}: "channels" must be an object {{"column": "sensor.axis:unit"}}, e.g. '
            '{"accX": "accelerometer.x:m/s2"}'
        )
    missing = [name for name in value if name not in features]
    if missing:
        raise InvalidInput(
            f'{where}: "channels" names column(s) {missing[:5]} that are not among its feature '
            f"columns {features[:20]}"
        )
    return value


def sample_matrix(samples: list, width: int, where: str, columns: list[str]) -> np.ndarray:
    if not samples:
        return np.empty((0, width))
    try:
        matrix = np.array(samples)
    except ValueError:
        matrix = None  # ragged rows
    if matrix is None or matrix.ndim != 2 or matrix.shape[1] != width:
        for row, sample in enumerate(samples):
            if not isinstance(sample, list) or len(sample) != width:
                raise InvalidInput(
                    f"{where}, sample {row + 1}: has "
                    f"{len(sample) if isinstance(sample, list) else 'no list of'} values but "
                    f"columns names {width}; rows of one session must have the same columns"
                )
        if matrix is None or matrix.ndim != 2:
            raise InvalidInput(
                f"{where}: each sample must be a flat list of {width} numbers; "
                "found nested lists inside a sample"
            )
    if matrix.dtype.kind not in "iuf" or not only_numbers(samples):
        for row, sample in enumerate(samples):  # error path: name the first non-number
            for j, value in enumerate(sample):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise InvalidInput(
                        f"{where}, sample {row + 1}, column {columns[j]!r}: {str(value)[:40]!r} "
                        "is not a number",
                        column=columns[j],
                    )
    try:
        return matrix.astype(np.float64)
    except OverflowError:  # an integer beyond float64 (e.g. 400 digits)
        raise InvalidInput(
            f"{where}: a sample value is too large for a 64-bit float (over 1.8e308); fix it"
        ) from None
