"""Upload bodies (stacked CSV, JSON) → validated sessions, vectorised with Arrow and NumPy.

Nothing here touches the database or the disk: a body either parses completely into
`ParsedSession`s or raises an error that names the row / column / session and the fix.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from core.channel_names import channels_for, parse_declaration, parse_declarations
from core.channels import Channel, ChannelError, Layout
from core.models import SPLITS
from core.unit_checks import check_session
from service.errors import InvalidInput

MAX_ID_LENGTH = 128
# Ids name files and URLs: no dot first (so never "." or ".."), no trailing newline.
ID_REGEX = r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$"  # pydantic / OpenAPI (anchors match ends)
ID_PATTERN = re.compile(ID_REGEX.strip("^$"))  # used with fullmatch: `$` allows a final "\n"
ID_RULE = "1-128 characters from A-Z a-z 0-9 . _ -, not starting with a dot"
MAX_LABEL_LENGTH = 256  # activity and subject (their database columns)
MAX_FEATURE_NAME_LENGTH = 128
MIN_SAMPLE_RATE_HZ, MAX_SAMPLE_RATE_HZ = 1e-3, 1e6
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")
# Besides the format characters (Unicode category Cf: zero-width space, joiners, bidi
# controls, BOM, soft hyphen, tags), the other default-ignorable ones that draw nothing.
INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u3164\uffa0")
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
    max_features: int = 1000  # MOTIONLAB_MAX_FEATURES
    # MOTIONLAB_MAX_UPLOAD_BYTES: also what a format may expand to (resampling, unzipping).
    max_upload_bytes: int = 512 * 1024 * 1024
    # MOTIONLAB_EDGE_IMPULSE_HMAC_KEY: Edge Impulse files must carry a valid signature.
    edge_impulse_hmac_key: str | None = None
    # ?channels=: what columns hold, declared (column → `sensor.axis:unit`; core/channel_names)
    channels: Mapping[str, str] = field(default_factory=dict)


@dataclass
class ParsedSession:
    id: str
    activity: str
    subject: str | None
    split: str | None
    sample_rate_hz: float | None
    features: list[str]
    # The stored samples: "timestamp" first when the upload had one, then the features; float64
    # without missing values. Usually zero-copy slices of the parsed upload.
    samples: pa.Table
    source: str | None = None
    # What each feature column holds, and what the unit checks found (core/unit_checks.py).
    channels: Layout = field(default_factory=lambda: Layout(()))
    levels: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    declared: bool = False  # the request declared channels for it: they must match a stored copy
    # The content address an earlier version stored for this same upload, when its parse has
    # changed since (Sensor Logger zips before channels): a re-send of it stays a no-op.
    stored_before: Callable[[], str | None] | None = None

    @cached_property
    def sha256(self) -> str:
        return content_address(self.features, self.samples)

    @property
    def has_timestamps(self) -> bool:
        return self.samples.num_columns > len(self.features)

    @property
    def rows(self) -> int:
        return self.samples.num_rows

    @property
    def duration_s(self) -> float | None:
        return self.rows / self.sample_rate_hz if self.sample_rate_hz else None


def content_address(features: list[str], samples: pa.Table) -> str:
    """The sha256 of a session's samples (see `ParsedSession.samples`): the names, then each
    feature's float64 bytes, then the timestamps'."""
    has_timestamps = samples.num_columns > len(features)
    digest = hashlib.sha256(json.dumps([features, has_timestamps]).encode())
    offset = int(has_timestamps)
    for index in (*range(offset, samples.num_columns), *range(offset)):
        for chunk in samples.column(index).chunks:
            digest.update(chunk.to_numpy(zero_copy_only=False))
    return digest.hexdigest()


def samples_table(features: list[str], columns: list, timestamps=None) -> pa.Table:
    """The stored layout of a session's samples (see `ParsedSession.samples`)."""
    if timestamps is None:
        return pa.table(columns, names=features)
    if TIMESTAMP in features:
        raise InvalidInput(
            f"a feature column is named {TIMESTAMP!r} while another column holds the "
            f"timestamps; rename that feature"
        )
    return pa.table([timestamps, *columns], names=[TIMESTAMP, *features])


class Payload:
    """An upload's bytes, handed over once so the parser can let them go after reading."""

    def __init__(self, data: bytes | bytearray):
        self._data: bytes | bytearray | None = data

    def __len__(self) -> int:
        return len(self._data or b"")

    def take(self) -> bytes | bytearray:
        data, self._data = self._data, None
        if data is None:
            raise RuntimeError("payload already taken")
        return data


def check_session_id(session_id: str, where: str = "") -> None:
    if not ID_PATTERN.fullmatch(session_id):
        raise InvalidInput(
            f"invalid session id {session_id[:140]!r}{where}: ids are {ID_RULE}; rename the "
            "session",
            session=session_id[:MAX_ID_LENGTH],
        )


def check_text(value: str, what: str, max_length: int, where: str) -> None:
    """A label or a name: not too long, no control characters (NUL, newline, …)."""
    if len(value) > max_length:
        raise InvalidInput(
            f"{where}: the {what} {value[:40]!r}… is {len(value)} characters long; the limit is "
            f"{max_length}: shorten it",
            limit=max_length,
        )
    bad = CONTROL_CHARACTER.search(value)
    if bad:
        raise InvalidInput(
            f"{where}: the {what} {value[:80]!r} contains the control character "
            f"{bad.group()!r}; use printable text"
        )


def normalized_label(value: str, what: str, where: str) -> str:
    """An activity or subject as stored: Unicode NFC, with no invisible character.

    Labels name classes, so two labels that look the same must be the same: a label is
    normalised to NFC (`café` typed as `e` + combining accent is `café`), and one holding a
    character that shows nothing (zero-width spaces and joiners, bidi controls, a BOM, a soft
    hyphen: INVISIBLE) is refused rather than stripped, so the client learns that its source
    carries them and the stored label is the one it sent.
    """
    text = unicodedata.normalize("NFC", value)
    check_text(text, what, MAX_LABEL_LENGTH, where)
    for position, character in enumerate(text, start=1):  # a label: at most 256 characters
        if unicodedata.category(character) == "Cf" or character in INVISIBLE:
            raise InvalidInput(
                f"{where}: the {what} {text[:80]!r} holds an invisible character, "
                f"U+{ord(character):04X} {unicodedata.name(character, '')} at position "
                f"{position}; labels that look alike must be equal: remove it"
            )
    return text


def check_feature_names(names: list[str], max_features: int, where: str) -> None:
    """Feature column names: not too many, each named, printable, short and unique."""
    if len(names) > max_features:
        raise InvalidInput(
            f"{where} has {len(names)} feature columns; the limit is {max_features} per session "
            "(MOTIONLAB_MAX_FEATURES): drop the columns the model does not need",
            limit=max_features,
        )
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not name.strip():
            raise InvalidInput(f"{where}: column {position} has no name; name every column")
        check_text(name, "column name", MAX_FEATURE_NAME_LENGTH, where)
        if name in seen:
            raise InvalidInput(
                f"{where}: column {name!r} appears twice; give each column its own name",
                column=name,
            )
        seen.add(name)


def check_split(split: str | None, session_id: str) -> str | None:
    if split in (None, ""):
        return None
    if split not in SPLITS:
        raise InvalidInput(
            f"session {session_id!r}: split {split!r} is not one of train, valid, test "
            "(or empty); fix the split value"
        )
    return split


def check_sample_rate(rate: object, session_id: str) -> float | None:
    if rate is None:
        return None
    value = None
    if isinstance(rate, int | float) and not isinstance(rate, bool):
        try:
            value = float(rate)
        except OverflowError:  # a 400-digit integer
            value = None
    if value is None or not MIN_SAMPLE_RATE_HZ <= value <= MAX_SAMPLE_RATE_HZ:
        raise InvalidInput(
            f"session {session_id!r}: sample_rate_hz"
            + (f" {value:g}" if value is not None else "")
            + f" is not a number from {MIN_SAMPLE_RATE_HZ:g} to {MAX_SAMPLE_RATE_HZ:g} "
            "(samples per second); fix it",
            session=session_id,
        )
    return value


def check_values(
    sessions: list[str],
    starts: np.ndarray,
    features: list[str],
    columns: list,
    timestamps=None,
    where=lambda position: "",
) -> None:
    """Every present feature value is finite and timestamps never go backwards within a
    session: one vectorised pass over the sessions stacked in `columns` (Arrow arrays, sessions
    starting at `starts`). Missing values are skipped: each format decides what they mean.
    `where(position)` adds the format's own name for a row to the message."""

    def sample(position: int) -> str:
        s = int(np.searchsorted(starts, position, side="right")) - 1
        return f"session {sessions[s]!r}, sample {position - int(starts[s]) + 1}{where(position)}"

    named = list(zip(features, columns, strict=True))
    if timestamps is not None:
        named.append((TIMESTAMP, timestamps))
    for name, column in named:
        position = pc.index(pc.is_finite(column), False).as_py()
        if position >= 0:
            raise InvalidInput(
                f"{sample(position)}, column {name!r}: value {column[position]} is not a finite "
                "number (NaN / inf / missing); fix or drop it",
                column=name,
            )
    if timestamps is not None:
        values = np.asarray(timestamps)
        backwards = np.diff(values) < 0
        backwards[np.asarray(starts[1:]) - 1] = False  # a new session may start earlier
        if backwards.any():
            position = int(np.argmax(backwards)) + 1
            raise InvalidInput(
                f"{sample(position)}: timestamp {values[position]} goes backwards (previous "
                f"{values[position - 1]}); rows of a session must be in time order"
            )


def layout_for(
    features: Sequence[str],
    *,
    declared: Mapping[str, str] | None = None,
    known: Mapping[str, Channel] | None = None,
    units: Mapping[str, str] | None = None,
    strict: bool = True,
) -> Layout:
    """The channels of columns (core/channel_names.channels_for), worked out once per layout:
    a stacked CSV's sessions, and the rows of predictions, repeat theirs."""
    maps = (tuple((m or {}).items()) for m in (declared, known, units))
    return _layout(tuple(features), *maps, strict)


@lru_cache(maxsize=256)
def _layout(
    features: tuple[str, ...], declared: tuple, known: tuple, units: tuple, strict: bool
) -> Layout:
    return Layout(
        channels_for(
            features, declared=dict(declared), known=dict(known), units=dict(units), strict=strict
        )
    )


def declared_channels(text: str | None) -> dict[str, str]:
    """A ?channels= query, each declaration checked (before a body is read)."""
    if not text:
        return {}
    try:
        declared = parse_declarations(text)
        for column, declaration in declared.items():
            parse_declaration(column, declaration)
    except ChannelError as error:
        raise InvalidInput(str(error)) from None
    return declared


def finish_session(
    *,
    session_id: str,
    activity: str | None,
    subject: str | None,
    split: str | None,
    sample_rate_hz: float | None,
    features: list[str],
    samples: pa.Table,
    source: str | None,
    declared: Mapping[str, str] | None = None,
    known: Mapping[str, Channel] | None = None,
    units: Mapping[str, str] | None = None,
    stored_before: Callable[[], str | None] | None = None,
) -> ParsedSession:
    """Checks of a session's labels shared by every format (values: `check_values`), its
    channels (`declared` by the uploader, `known` or `units` from the format, else inferred)
    and their unit checks, then the parsed session."""
    check_session_id(session_id)
    if activity is None or activity == "":
        raise InvalidInput(
            f"session {session_id!r} has no activity label; give it one", session=session_id
        )
    activity = normalized_label(activity, "activity", f"session {session_id!r}")
    if subject is not None:
        subject = normalized_label(subject, "subject", f"session {session_id!r}")
    if not features:
        raise InvalidInput(f"session {session_id!r} has no feature columns with values")
    if samples.num_rows == 0:
        raise InvalidInput(f"session {session_id!r} is empty: it has no sample rows")
    declared = {c: d for c, d in (declared or {}).items() if c in features}
    try:
        layout = layout_for(features, declared=declared, known=known, units=units)
    except ChannelError as error:
        raise InvalidInput(f"session {session_id!r}: {error}", session=session_id) from None
    levels, warnings = check_session(layout, lambda column: samples.column(column).to_numpy())
    return ParsedSession(
        id=session_id,
        activity=activity,
        subject=subject or None,
        split=check_split(split, session_id),
        sample_rate_hz=check_sample_rate(sample_rate_hz, session_id),
        features=features,
        samples=samples,
        source=source,
        channels=layout,
        levels=levels,
        warnings=warnings,
        declared=bool(declared),
        stored_before=stored_before,
    )
