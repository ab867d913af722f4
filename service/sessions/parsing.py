"""Upload bodies (stacked CSV, JSON) → validated sessions, vectorised with Arrow and NumPy.

Nothing here touches the database or the disk: a body either parses completely into
`ParsedSession`s or raises an error that names the row / column / session and the fix.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa

from service.errors import InvalidInput
from service.models import SPLITS

MAX_ID_LENGTH = 128
ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
TIMESTAMP = "timestamp"


@dataclass(frozen=True)
class UploadOptions:
    """Column names and per-request defaults (query parameters of POST /v1/sessions)."""

    session_column: str = "sessionId"
    label_column: str = "activity"
    subject_column: str = "subject"
    split_column: str = "split"
    timestamp_column: str = "timestamp"
    session_id: str | None = None
    activity: str | None = None
    subject: str | None = None
    split: str | None = None
    sample_rate_hz: float | None = None


@dataclass
class ParsedSession:
    id: str
    activity: str
    subject: str | None
    split: str | None
    sample_rate_hz: float | None
    features: list[str]
    columns: list[np.ndarray]  # one (rows,) float64 array per feature; views where possible
    timestamps: np.ndarray | None  # (rows,) float64
    source: str | None = None

    @cached_property
    def sha256(self) -> str:
        """Content address of the samples: names, then each column's float64 bytes."""
        digest = hashlib.sha256(json.dumps([self.features, self.timestamps is not None]).encode())
        for column in (*self.columns, *(() if self.timestamps is None else (self.timestamps,))):
            digest.update(memoryview(np.ascontiguousarray(column, dtype=np.float64)))
        return digest.hexdigest()

    @property
    def rows(self) -> int:
        return int(self.columns[0].shape[0])

    @property
    def duration_s(self) -> float | None:
        return self.rows / self.sample_rate_hz if self.sample_rate_hz else None

    def to_table(self) -> pa.Table:
        columns = {} if self.timestamps is None else {TIMESTAMP: self.timestamps}
        columns.update(zip(self.features, self.columns, strict=True))
        return pa.table(columns)


class Payload:
    """An upload's bytes, handed over once so the parser can let them go after reading."""

    def __init__(self, data: bytes | bytearray):
        self._data: bytes | bytearray | None = data

    def take(self) -> bytes | bytearray:
        data, self._data = self._data, None
        if data is None:
            raise RuntimeError("payload already taken")
        return data


def check_session_id(session_id: str, where: str = "") -> None:
    if not ID_PATTERN.match(session_id):
        raise InvalidInput(
            f"invalid session id {session_id[:140]!r}{where}: ids are 1-{MAX_ID_LENGTH} "
            "characters from A-Z a-z 0-9 . _ -; rename the session"
        )


def check_split(split: str | None, session_id: str) -> str | None:
    if split in (None, ""):
        return None
    if split not in SPLITS:
        raise InvalidInput(
            f"session {session_id!r}: split {split!r} is not one of train, valid, test "
            "(or empty); fix the split value"
        )
    return split


def check_sample_rate(rate: float | None, session_id: str) -> float | None:
    if rate is not None and not (np.isfinite(rate) and rate > 0):
        raise InvalidInput(f"session {session_id!r}: sample_rate_hz must be a positive number")
    return rate


def finish_session(
    *,
    session_id: str,
    activity: str | None,
    subject: str | None,
    split: str | None,
    sample_rate_hz: float | None,
    features: list[str],
    columns: list[np.ndarray],
    timestamps: np.ndarray | None,
    source: str | None,
) -> ParsedSession:
    """Checks shared by every format, then the immutable parsed session."""
    check_session_id(session_id)
    if activity is None or activity == "":
        raise InvalidInput(f"session {session_id!r} has no activity label; give it one")
    if not features:
        raise InvalidInput(f"session {session_id!r} has no feature columns with values")
    if columns[0].shape[0] == 0:
        raise InvalidInput(f"session {session_id!r} is empty: it has no sample rows")
    for name, column in zip(features, columns, strict=True):
        bad = np.flatnonzero(~np.isfinite(column))
        if bad.size:
            raise InvalidInput(
                f"session {session_id!r}, sample {bad[0] + 1}, column {name!r}: value "
                f"{column[bad[0]]} is not a finite number (NaN / inf / missing); fix or drop it"
            )
    if timestamps is not None:
        backwards = np.flatnonzero(np.diff(timestamps) < 0)
        if backwards.size:
            row = int(backwards[0]) + 1
            raise InvalidInput(
                f"session {session_id!r}, sample {row + 1}: timestamp "
                f"{timestamps[row]} goes backwards (previous {timestamps[row - 1]}); "
                "rows of a session must be in time order"
            )
    return ParsedSession(
        id=session_id,
        activity=activity,
        subject=subject or None,
        split=check_split(split, session_id),
        sample_rate_hz=check_sample_rate(sample_rate_hz, session_id),
        features=features,
        columns=columns,
        timestamps=timestamps,
        source=source,
    )
