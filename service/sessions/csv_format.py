"""Stacked CSV → sessions. One Arrow parse, then NumPy over whole columns; loops run over
sessions, never over samples."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from service.errors import InvalidInput, MalformedBody
from service.sessions.not_csv import refuse_other_content
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

# pyarrow reads a CSV in blocks of this size, and a line must fit in one block.
MAX_LINE_BYTES = 1 << 20
SEARCH_WINDOW_BYTES = 1 << 20
# Columns besides the features: session id, label, subject, split, timestamp.
RESERVED_COLUMNS = 5


def line(row: int) -> str:
    """Name a 0-based data row as a user finds it in the file (header is line 1)."""
    return f"row {row + 1} (line {row + 2})"


def read_csv_table(data: bytes | bytearray, options: UploadOptions, max_columns: int) -> pa.Table:
    """The CSV as a table of uniquely named columns: 400 when it cannot be read, 422 when its
    header breaks a limit (checked before parsing, so a huge header costs nothing)."""
    _check_header(data, max_columns)
    text_columns = (
        options.session_column,
        options.label_column,
        options.subject_column,
        options.split_column,
    )
    read_options = pacsv.ReadOptions(block_size=MAX_LINE_BYTES)
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=read_options,
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in text_columns},
                strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as exc:
        message = str(exc).replace("\n", " ")
        if "Empty CSV file" in message:
            raise InvalidInput("the CSV is empty: send a header line and sample rows") from exc
        if "straddl" in message:  # pyarrow's words for a line longer than a block
            raise InvalidInput(
                f"a line of the CSV is longer than {MAX_LINE_BYTES} bytes, the longest line "
                "accepted; a cell that large is not a sensor value: fix the file",
                limit=MAX_LINE_BYTES,
            ) from exc
        raise MalformedBody(f"malformed CSV: {message}; fix the file and send it again") from exc
    seen: set[str] = set()
    for position, name in enumerate(table.column_names, start=1):
        if not name.strip():
            raise InvalidInput(f"column {position} of the CSV header has no name; name it")
        if name in seen:
            raise InvalidInput(
                f"the CSV header names column {name!r} twice; give each column its own name",
                column=name,
            )
        seen.add(name)
    _refuse_hexadecimal(data, table, read_options)
    return table


def _refuse_hexadecimal(
    data: bytes | bytearray, table: pa.Table, read_options: pacsv.ReadOptions
) -> None:
    """422 for a hexadecimal integer: pyarrow reads `0x1A` as 26, a value the file does not
    show. Only integer columns can hold one, and only a body holding `0x` is read again."""
    integers = [field.name for field in table.schema if pa.types.is_integer(field.type)]
    if not integers or not (_holds(data, b"0x") or _holds(data, b"0X")):
        return
    text = pacsv.read_csv(
        pa.BufferReader(data),
        read_options=read_options,
        convert_options=pacsv.ConvertOptions(
            include_columns=integers, column_types=dict.fromkeys(integers, pa.string())
        ),
    )
    for name in integers:
        row = pc.index(pc.match_substring_regex(text.column(name), r"^\s*0[xX]"), True).as_py()
        if row >= 0:
            raise InvalidInput(
                f"{line(row)}, column {name!r}: {text.column(name)[row].as_py()!r} is a "
                "hexadecimal number; write numbers in decimal",
                column=name,
            )


def _holds(data: bytes | bytearray, needle: bytes) -> bool:
    """`needle in data`, a window at a time: one search of a large body holds the GIL (and so
    the event loop) for as long as it takes, ~0.3 s for 62 MB."""
    return any(
        data.find(needle, start, start + SEARCH_WINDOW_BYTES + len(needle) - 1) >= 0
        for start in range(0, len(data), SEARCH_WINDOW_BYTES)
    )


def _check_header(data: bytes | bytearray, max_columns: int) -> None:
    end = data.find(b"\n", 0, MAX_LINE_BYTES)
    if end < 0:
        if len(data) >= MAX_LINE_BYTES:
            raise InvalidInput(
                f"the CSV header line is longer than {MAX_LINE_BYTES} bytes, the longest line "
                "accepted: the first line must be the column names",
                limit=MAX_LINE_BYTES,
            )
        end = len(data)
    header = bytes(data[:end])
    refuse_other_content(bytes(data[:16]), header)
    try:
        header.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedBody(
            f"the CSV header is not UTF-8 text (byte {exc.start + 1} is "
            f"{header[exc.start]:#04x}); save the file as UTF-8 and send it again"
        ) from None
    columns = header.count(b",") + 1
    if columns > max_columns:
        raise InvalidInput(
            f"the CSV header has {columns} columns; the limit is {max_columns} "
            f"({max_columns - RESERVED_COLUMNS} feature columns, MOTIONLAB_MAX_FEATURES, plus "
            "the id, label, subject, split and timestamp columns): drop the columns you do not "
            "need",
            limit=max_columns,
        )


class TextColumn:
    """A text column as integer codes (in order of first appearance) and their values."""

    def __init__(self, codes: np.ndarray, distinct: list[str | None]):
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
    max_columns = options.max_features + RESERVED_COLUMNS
    table = read_csv_table(payload.take(), options, max_columns)  # the raw bytes can go now
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
    check_feature_names(feature_names, options.max_features, "the CSV")
    features = [_float_column(table, name) for name in feature_names]
    timestamps = None
    if o.timestamp_column in table.column_names:
        timestamps = _float_column(table, o.timestamp_column)
        if timestamps.null_count:
            missing = int(np.flatnonzero(timestamps.is_null().to_numpy(zero_copy_only=False))[0])
            raise InvalidInput(f"{line(missing)} has an empty timestamp; fill it in")
    samples = samples_table(feature_names, features, timestamps)
    del table, features, timestamps

    # Group rows by session: sessions in order of first appearance, rows in file order.
    # Files are usually sorted by session already: then no row moves and nothing is copied.
    contiguous = bool(np.all(ids.codes[1:] >= ids.codes[:-1]))
    order = np.arange(ids.codes.size) if contiguous else np.argsort(ids.codes, kind="stable")
    if not contiguous:
        samples = samples.take(pa.array(order))
    counts = np.bincount(ids.codes, minlength=len(ids.distinct))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    sessions = [str(value) for value in ids.distinct]
    for session_id in sessions:
        check_session_id(session_id)
    activity = _one_value_per_session(labels, order, starts, sessions, "activity")
    subject = _one_value_per_session(subjects, order, starts, sessions, "subject")
    split = _one_value_per_session(splits, order, starts, sessions, "split")
    offset = samples.num_columns - len(feature_names)  # the timestamp column comes first
    present = _present_features(samples, offset, feature_names, sessions, starts, counts, order)
    check_values(
        sessions,
        starts,
        feature_names,
        samples.columns[offset:],
        samples.column(0) if offset else None,
        where=lambda position: f", {line(int(order[position]))}",
    )
    parsed: list[ParsedSession] = []
    for s, session_id in enumerate(sessions):
        columns = present[s]
        parsed.append(
            finish_session(
                session_id=session_id,
                activity=activity[s],
                subject=subject[s],
                split=split[s],
                sample_rate_hz=o.sample_rate_hz,
                features=[feature_names[j - offset] for j in columns[offset:]],
                samples=samples.slice(int(starts[s]), int(counts[s])).select(columns),
                source=source,
                declared=options.channels,
            )
        )
    return parsed


def _present_features(samples, offset, feature_names, sessions, starts, counts, order):
    """Per session, the indexes of the sample columns it stores: a feature left empty in every
    row of a session is not one of its features; empty in only some rows is an error."""
    every = list(range(samples.num_columns))
    with_gaps = [j for j in range(offset, samples.num_columns) if samples.column(j).null_count]
    if not with_gaps:  # the usual case: nothing to look at per session
        return [every] * len(sessions)
    empty = np.column_stack(
        [samples.column(j).is_null().to_numpy(zero_copy_only=False) for j in with_gaps]
    )
    empty_counts = np.add.reduceat(empty.astype(np.int64), starts, axis=0)  # (S, gaps)
    present = []
    for s, session_id in enumerate(sessions):
        partial = np.flatnonzero((empty_counts[s] > 0) & (empty_counts[s] < counts[s]))
        if partial.size:
            k = int(partial[0])
            start = int(starts[s])
            row = int(order[start + np.flatnonzero(empty[start : start + counts[s], k])[0]])
            raise InvalidInput(
                f"session {session_id!r}, {line(row)}: column "
                f"{feature_names[with_gaps[k] - offset]!r} is empty or NaN here but filled in "
                "other rows of the session; rows of one session must have the same feature "
                "columns"
            )
        dropped = {with_gaps[k] for k in np.flatnonzero(empty_counts[s] == counts[s])}
        present.append([j for j in every if j not in dropped])
    return present
