"""Stacked CSV → sessions. One Arrow parse, then NumPy over whole columns; loops run over
sessions, never over samples."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from service.errors import InvalidInput, MalformedBody
from service.sessions.parsing import (
    ParsedSession,
    Payload,
    UploadOptions,
    check_session_id,
    finish_session,
)


def line(row: int) -> str:
    """Name a 0-based data row as a user finds it in the file (header is line 1)."""
    return f"row {row + 1} (line {row + 2})"


def read_csv_table(data: bytes | bytearray, options: UploadOptions) -> pa.Table:
    text_columns = (
        options.session_column,
        options.label_column,
        options.subject_column,
        options.split_column,
    )
    try:
        return pacsv.read_csv(
            pa.BufferReader(data),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in text_columns},
                strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as exc:
        message = str(exc).replace("\n", " ")
        if "Empty CSV file" in message:
            raise InvalidInput("the CSV is empty: send a header line and sample rows") from exc
        raise MalformedBody(f"malformed CSV: {message}; fix the file and send it again") from exc


class TextColumn:
    """A text column as integer codes (in order of first appearance) and their values."""

    def __init__(self, codes: np.ndarray, distinct: list[str]):
        self.codes = codes  # (rows,) index into distinct; len(distinct) marks an empty cell
        self.distinct = distinct
        self.values = [*distinct, None]

    @classmethod
    def of(cls, column: pa.ChunkedArray) -> TextColumn:
        encoded = pc.dictionary_encode(column).combine_chunks()
        codes = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy()
        return cls(codes, encoded.dictionary.to_pylist())

    @classmethod
    def constant(cls, rows: int, value: str | None) -> TextColumn:
        return cls(np.zeros(rows, dtype=np.int32), [value])


def _id_or_label_column(table, name, fallback, what, column_param, value_param) -> TextColumn:
    if name in table.column_names:
        column = TextColumn.of(table.column(name))
        empty = np.flatnonzero(column.codes == len(column.distinct))
        if empty.size:
            raise InvalidInput(f"{line(int(empty[0]))} has an empty {what} column {name!r}")
        return column
    if fallback is not None:
        return TextColumn.constant(table.num_rows, fallback)
    raise InvalidInput(
        f"missing {what} column {name!r} (columns: {', '.join(table.column_names)}); name "
        f"yours with ?{column_param}=, or give ?{value_param}= for a file holding one session"
    )


def _float_column(table: pa.Table, name: str) -> pa.ChunkedArray:
    column = table.column(name)
    numeric = (pa.types.is_integer, pa.types.is_floating, pa.types.is_null)
    if not any(is_type(column.type) for is_type in numeric):
        raise InvalidInput(_first_non_numeric(column, name))
    return column.cast(pa.float64())


def _as_numpy(column: pa.ChunkedArray) -> np.ndarray:
    """Zero-copy when the slice lies in one chunk (the usual case)."""
    chunks = column.chunks
    if len(chunks) == 1:
        return chunks[0].to_numpy(zero_copy_only=False)
    return column.to_numpy()


def _first_non_numeric(column: pa.ChunkedArray, name: str) -> str:
    # Error path only: find the offending cell for the message.
    for row, value in enumerate(column.to_pylist()):
        try:
            float(value if value is not None else 0)
        except ValueError:
            return (
                f"{line(row)}, column {name!r}: {value!r} is not a number; every column other "
                "than session id, label, subject, split and timestamp is a numeric feature"
            )
    return f"column {name!r} is not numeric; feature columns must hold numbers"


def _one_value_per_session(column: TextColumn, order, starts, sessions, what) -> list:
    codes = column.codes[order]
    low, high = np.minimum.reduceat(codes, starts), np.maximum.reduceat(codes, starts)
    mixed = np.flatnonzero(low != high)
    if mixed.size:
        raise InvalidInput(
            f"session {sessions[mixed[0]]!r} has rows with different {what} values; a "
            f"session holds one {what}: split the recording into separate sessions"
        )
    return [column.values[code] for code in low]


def parse_csv(payload: Payload, options: UploadOptions, source: str | None = None):
    table = read_csv_table(payload.take(), options)  # the raw bytes can go now
    if table.num_rows == 0:
        raise InvalidInput("the CSV has a header but no sample rows: sessions cannot be empty")
    o = options
    ids = _id_or_label_column(
        table, o.session_column, o.session_id, "session-id", "session_column", "session_id"
    )
    labels = _id_or_label_column(
        table, o.label_column, o.activity, "label", "label_column", "activity"
    )
    subjects, splits = (
        TextColumn.of(table.column(name))
        if name in table.column_names
        else TextColumn.constant(table.num_rows, default)
        for name, default in ((o.subject_column, o.subject), (o.split_column, o.split))
    )
    reserved = {o.session_column, o.label_column, o.subject_column, o.split_column}
    reserved.add(o.timestamp_column)
    feature_names = [name for name in table.column_names if name not in reserved]
    if not feature_names:
        raise InvalidInput("the CSV has no feature columns: add numeric sensor columns")
    features = [_float_column(table, name) for name in feature_names]
    empty = np.column_stack([c.is_null().to_numpy(zero_copy_only=False) for c in features])
    for name, column in zip(feature_names, features, strict=True):
        infinite = np.flatnonzero(pc.is_inf(column).fill_null(False).to_numpy(zero_copy_only=False))
        if infinite.size:
            raise InvalidInput(
                f"{line(int(infinite[0]))}, column {name!r}: {column[int(infinite[0])]} is not a "
                "finite number"
            )
    timestamps = None
    if o.timestamp_column in table.column_names:
        timestamps = _float_column(table, o.timestamp_column)
        missing = np.flatnonzero(timestamps.is_null().to_numpy(zero_copy_only=False))
        if missing.size:
            raise InvalidInput(f"{line(int(missing[0]))} has an empty timestamp; fill it in")

    # Group rows by session: sessions in order of first appearance, rows in file order.
    # Files are usually sorted by session already: then no row moves and nothing is copied.
    contiguous = bool(np.all(ids.codes[1:] >= ids.codes[:-1]))
    order = np.arange(ids.codes.size) if contiguous else np.argsort(ids.codes, kind="stable")
    counts = np.bincount(ids.codes, minlength=len(ids.distinct))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    sessions = [str(value) for value in ids.distinct]
    for session_id in sessions:
        check_session_id(session_id)
    activity = _one_value_per_session(labels, order, starts, sessions, "activity")
    subject = _one_value_per_session(subjects, order, starts, sessions, "subject")
    split = _one_value_per_session(splits, order, starts, sessions, "split")
    if not contiguous:
        take = pa.array(order)
        features = [column.take(take) for column in features]
        timestamps = None if timestamps is None else timestamps.take(take)
        empty = empty[order]
    empty_counts = np.add.reduceat(empty.astype(np.int64), starts, axis=0)  # (S, F)

    parsed: list[ParsedSession] = []
    for s, session_id in enumerate(sessions):
        start, count = int(starts[s]), int(counts[s])
        partial = np.flatnonzero((empty_counts[s] > 0) & (empty_counts[s] < count))
        if partial.size:
            j = int(partial[0])
            row = int(order[start + np.flatnonzero(empty[start : start + count, j])[0]])
            raise InvalidInput(
                f"session {session_id!r}, {line(row)}: column {feature_names[j]!r} is empty or "
                "NaN here but filled in other rows of the session; rows of one session must "
                "have the same feature columns"
            )
        present = [j for j in range(len(features)) if empty_counts[s, j] == 0]
        parsed.append(
            finish_session(
                session_id=session_id,
                activity=activity[s],
                subject=subject[s],
                split=split[s],
                sample_rate_hz=o.sample_rate_hz,
                features=[feature_names[j] for j in present],
                columns=[_as_numpy(features[j].slice(start, count)) for j in present],
                timestamps=None
                if timestamps is None
                else _as_numpy(timestamps.slice(start, count)),
                source=source,
            )
        )
    return parsed
