"""Request rows (CSV or JSON) → a feature matrix in the model's column order.

CSV: a header line, one row per sample; the model's features (any order, extra columns
ignored), optionally a session column (`sessionId`; without it all rows are one session) and,
to evaluate, a label column named after the model's target. As in Turi Create, consecutive
rows with the same session id form a session; an id that shows up again later starts a new
one.

JSON: one session of the upload format, {"id"?, "columns": [...], "samples": [[...], ...],
"channels"?} (plus its label, e.g. "activity", to evaluate), or several: {"sessions": [...]}.

Columns are read as an upload's are (core/channels.py): a model's feature comes from the
column of its channel, converted into the unit the model trained in (an `ax` column in g, or
`accX` declared in m/s² with ?channels=, feed `accelX`), or from a column of its very name
(models trained before channels took columns by name).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import numpy as np
import pyarrow as pa

from core.channels import ChannelError, Source, combine
from service.errors import BadRequest, InvalidInput, UnsupportedMediaType
from service.sessions.csv_format import RESERVED_COLUMNS, TextColumn, line, read_csv_table
from service.sessions.json_format import load_json, sample_matrix
from service.sessions.parsing import (
    MAX_ID_LENGTH,
    UploadOptions,
    check_feature_names,
    layout_for,
)

MEDIA_TYPES = ("text/csv", "application/json")
JSON_SHAPE = (
    'JSON rows are one session {"columns": [...], "samples": [[...], ...]} or several '
    '{"sessions": [{"id", "columns", "samples"}, ...]}'
)


@dataclass(frozen=True)
class RowFormat:
    """What to look for in the rows: the model's features, the session and label columns."""

    features: tuple[str, ...]
    session_column: str
    label_column: str | None = None  # required when set (evaluate)
    max_features: int = 1000  # MOTIONLAB_MAX_FEATURES: extra columns are ignored, up to this
    channels: Mapping[str, str] = field(default_factory=dict)  # declared: ?channels=

    @property
    def max_columns(self) -> int:
        return max(self.max_features, len(self.features)) + RESERVED_COLUMNS


@dataclass(frozen=True)
class Rows:
    features: np.ndarray  # (N, F) float32, columns in the model's feature order
    session_codes: np.ndarray  # (N,) int64; a change of code between rows starts a session
    session_names: list[str | None]  # code → the id the client gave (None: not given)
    labels: np.ndarray | None  # (N,) str, when a label column was asked for

    @property
    def num_rows(self) -> int:
        return len(self.session_codes)


def check_media_type(kind: str) -> str:
    if kind not in MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"unsupported content type {kind or 'none'!r}: send rows as text/csv or "
            "application/json (optionally with Content-Encoding: gzip)"
        )
    return kind


def check_not_empty(data: bytes | bytearray) -> None:
    if not data.strip():
        raise BadRequest(
            "the body is empty: send rows as CSV (a header line, then one line per sample) or "
            f"as JSON. {JSON_SHAPE}"
        )


def rows_from_csv(data: bytes | bytearray, fmt: RowFormat) -> Rows:
    options = UploadOptions(
        session_column=fmt.session_column, label_column=fmt.label_column or "activity"
    )
    table = read_csv_table(data, options, fmt.max_columns)
    if table.num_rows == 0:
        raise InvalidInput("the CSV has a header but no rows: send at least one row")
    sources = _sources(table.column_names, fmt, fmt.channels, "the CSV header")
    _require_label(table.column_names, fmt, "the CSV header")
    matrix = _matrix(sources, lambda name: _csv_numbers(table.column(name), name))  # (N, F)
    _check_finite(matrix, fmt.features, line)
    if fmt.session_column in table.column_names:
        ids = _csv_text(table, fmt.session_column, "session id")
        codes, names = _segments(ids.codes), ids.distinct
        session_codes, session_names = codes, [names[c] for c in _first_codes(ids.codes)]
    else:
        session_codes, session_names = np.zeros(table.num_rows, np.int64), [None]
    labels = None
    if fmt.label_column is not None:
        column = _csv_text(table, fmt.label_column, "label")
        labels = np.asarray(column.distinct, dtype=str)[column.codes]
    return Rows(matrix, session_codes, session_names, labels)


def rows_from_json(document: Any, fmt: RowFormat) -> Rows:
    if isinstance(document, dict) and "samples" in document:
        items, wheres = [document], ["the body"]
    elif isinstance(document, dict) and isinstance(document.get("sessions"), list):
        items = document["sessions"]
        wheres = [f"sessions[{i}]" for i in range(len(items))]
        if not items:
            raise InvalidInput('"sessions" is empty: send at least one session of rows')
    else:
        raise InvalidInput(JSON_SHAPE)
    blocks, names, labels = [], [], []
    for item, where in zip(items, wheres, strict=True):
        block, label = _json_session(item, where, fmt)
        blocks.append(block)
        names.append(_session_name(item.get("id"), where))
        labels.append(label)
    lengths = [len(block) for block in blocks]
    return Rows(
        features=np.concatenate(blocks) if len(blocks) > 1 else blocks[0],
        session_codes=np.repeat(np.arange(len(blocks)), lengths),
        session_names=names,
        labels=None if fmt.label_column is None else np.repeat(np.asarray(labels, str), lengths),
    )


def json_rows(data: bytes | bytearray, fmt: RowFormat) -> Rows:
    """A JSON body of rows (decoded apart when large: service.offload)."""
    return rows_from_json(load_json(data), fmt)


def json_rows_or_selection(data: bytes | bytearray, fmt: RowFormat) -> Rows | dict:
    """A JSON body to evaluate: labelled rows, or the object naming stored sessions."""
    document = load_json(data)
    return document if is_selection(document) else rows_from_json(document, fmt)


def is_selection(document: Any) -> TypeGuard[dict]:
    """A JSON object naming stored sessions, not carrying samples."""
    if not isinstance(document, dict) or "samples" in document:
        return False
    sessions = document.get("sessions")
    return not (isinstance(sessions, list) and any(isinstance(s, dict) for s in sessions))


def _json_session(item: Any, where: str, fmt: RowFormat) -> tuple[np.ndarray, str | None]:
    if not isinstance(item, dict):
        raise InvalidInput(f"{where} must be an object with columns and samples. {JSON_SHAPE}")
    columns, samples = item.get("columns"), item.get("samples")
    if not (isinstance(columns, list) and columns and all(isinstance(c, str) for c in columns)):
        raise InvalidInput(f'{where}: "columns" must be a non-empty list of column names')
    check_feature_names(columns, fmt.max_columns, f"{where}, columns")
    if not isinstance(samples, list) or not samples:
        raise InvalidInput(
            f'{where}: "samples" must be a non-empty list of rows (lists of numbers)'
        )
    declared = item.get("channels") or {}
    if not isinstance(declared, dict) or not all(isinstance(v, str) for v in declared.values()):
        raise InvalidInput(
            f'{where}: "channels" must be an object {{"column": "sensor.axis:unit"}}'
        )
    sources = _sources(columns, fmt, {**fmt.channels, **declared}, where)
    matrix = sample_matrix(samples, len(columns), where, columns)  # (n, columns) float64
    block = _matrix(sources, lambda name: matrix[:, columns.index(name)])
    _check_finite(block, fmt.features, lambda row: f"{where}, sample {row + 1}")
    label = None
    if fmt.label_column is not None:
        label = item.get(fmt.label_column)
        if not isinstance(label, str) or not label:
            raise InvalidInput(
                f'{where} has no "{fmt.label_column}" label (a string); evaluate needs the '
                "true label of each session"
            )
    return block, label


def _session_name(value: Any, where: str) -> str | None:
    """The id a client gave a session of rows, echoed in the answer: short text or nothing."""
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise InvalidInput(f'{where}: "id" must be a string')
    name = str(value)
    if len(name) > MAX_ID_LENGTH:
        raise InvalidInput(
            f'{where}: "id" is {len(name)} characters long; the limit is {MAX_ID_LENGTH}',
            limit=MAX_ID_LENGTH,
        )
    return name


def _sources(
    names: list[str], fmt: RowFormat, declared: Mapping[str, str], where: str
) -> list[Source]:
    """Where each of the model's features comes from among the columns (see the module)."""
    candidates = [n for n in names if n not in (fmt.session_column, fmt.label_column)]
    unknown = [name for name in declared if name not in candidates]
    if unknown:
        raise InvalidInput(f"channels names column(s) {unknown[:5]} that {where} does not have")
    try:
        layout = layout_for(candidates, declared=declared, strict=False)
    except ChannelError as error:
        raise InvalidInput(f"{where}: {error}") from None
    found = [layout.source(name, by_column=True) for name in fmt.features]
    missing = [name for name, source in zip(fmt.features, found, strict=True) if source is None]
    if missing:
        read_as = ", ".join(f"{c.column}: {c.name}" for c in layout.channels if c.name != c.column)
        raise InvalidInput(
            f"missing feature column(s) {missing} in {where}; the model needs "
            f"{list(fmt.features)} and {where} has {names}"
            + (f" (read as {read_as})" if read_as else "")
            + "; name the columns so, or declare them with channels="
        )
    return [source for source in found if source is not None]


def _matrix(sources: list[Source], column: Callable[[str], np.ndarray]) -> np.ndarray:
    """(N, F) float32: each feature from its sources."""
    first = column(sources[0][0][0])
    matrix = np.empty((len(first), len(sources)), dtype=np.float32)
    for j, source in enumerate(sources):
        matrix[:, j] = combine(source, column)
    return matrix


def _require_label(names: list[str], fmt: RowFormat, where: str) -> None:
    if fmt.label_column is not None and fmt.label_column not in names:
        raise InvalidInput(
            f"missing label column {fmt.label_column!r} in {where} (columns: {names}); evaluate "
            "needs the true label of each row (name another column with ?label_column=)"
        )


def _csv_numbers(column: pa.ChunkedArray, name: str) -> np.ndarray:
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        if column.null_count:
            row = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
            raise InvalidInput(
                f"{line(row)}, column {name!r} is empty (or NaN); give every row a number"
            )
        return column.to_numpy()
    for row, value in enumerate(column.to_pylist()):  # error path: name the first bad cell
        try:
            float(value)
        except (TypeError, ValueError):
            what = (
                "is empty (or NaN)" if value is None else f"holds {value!r}, which is not a number"
            )
            raise InvalidInput(f"{line(row)}, column {name!r} {what}") from None
    raise InvalidInput(f"column {name!r} is not numeric; feature columns must hold numbers")


def _csv_text(table: pa.Table, name: str, what: str) -> TextColumn:
    column = TextColumn.of(table.column(name))
    empty = np.flatnonzero(column.codes == len(column.distinct))
    if empty.size:
        raise InvalidInput(f"{line(int(empty[0]))} has an empty {what} column {name!r}")
    return column


def _segments(codes: np.ndarray) -> np.ndarray:
    """(N,) 0, 1, 2… numbering runs of equal codes: a session per run of consecutive rows."""
    return np.cumsum(np.r_[0, codes[1:] != codes[:-1]]).astype(np.int64)


def _first_codes(codes: np.ndarray) -> np.ndarray:
    return codes[np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])]


def _check_finite(matrix: np.ndarray, names: tuple[str, ...], where) -> None:
    bad = ~np.isfinite(matrix)
    if bad.any():
        rows, cols = np.nonzero(bad)
        raise InvalidInput(
            f"{where(int(rows[0]))}, column {names[cols[0]]!r}: {matrix[rows[0], cols[0]]} is not "
            "a finite number (NaN, inf, or too large); fix or drop it"
        )
