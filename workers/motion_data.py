"""Motion data as the engine sees it: stacked session rows, in their stored order (spec §1.2).

A session is a run of consecutive rows with the same session id. Nothing is sorted or
grouped: an id that shows up again later starts a new session, exactly as Turi Create counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Columns: TypeAlias = Mapping[str, Any] | pa.Table


class MotionDataError(ValueError):
    """Data the engine cannot use; the message names the column or row and the fix."""


@dataclass(frozen=True, eq=False)
class MotionData:
    """Sessions stacked row after row: ids (N,), features (N, F), optional targets (N,)."""

    session_ids: np.ndarray  # (N,) str or int; a change of id between rows starts a session
    features: np.ndarray  # (N, F) float32, finite
    feature_names: tuple[str, ...]
    targets: np.ndarray | None = None  # (N,) str or int class labels; None for prediction
    session_column: str = "session_id"
    target_column: str | None = None

    def __post_init__(self) -> None:
        # Normalise once here so every constructor (from_columns, take_rows, callers) is checked.
        if len(self.session_ids) == 0:
            raise MotionDataError("the data has no rows; at least one session is needed")
        session_ids = _label_array(self.session_ids, self.session_column, "session id")
        features = np.asarray(self.features, dtype=np.float32)  # no copy when already float32
        feature_names = tuple(self.feature_names)
        num_rows = len(session_ids)
        if features.shape != (num_rows, len(feature_names)):
            raise MotionDataError(
                f"features have shape {features.shape}; expected "
                f"({num_rows}, {len(feature_names)}) = (rows, feature names)"
            )
        _check_finite(features, feature_names)
        object.__setattr__(self, "session_ids", session_ids)
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "feature_names", feature_names)
        if self.targets is not None:
            targets = _label_array(self.targets, self.target_column or "target", "target")
            if len(targets) != num_rows:
                raise MotionDataError(f"targets have {len(targets)} rows; features have {num_rows}")
            object.__setattr__(self, "targets", targets)

    @classmethod
    def from_columns(
        cls,
        columns: Columns,
        *,
        session_id: str,
        target: str | None,
        features: Sequence[str] | None = None,
    ) -> MotionData:
        """Build from named columns (a mapping of array-likes or a pyarrow Table).

        features=None takes every column except the session id and the target, in column
        order. Extra columns are ignored.
        """
        names = list(columns.column_names if isinstance(columns, pa.Table) else columns.keys())
        if not isinstance(session_id, str):
            raise TypeError(f"session_id must be a column name (str); got {session_id!r}")
        if target is not None and not isinstance(target, str):
            raise TypeError(f"target must be a column name (str) or None; got {target!r}")
        feature_names = _feature_names(names, session_id, target, features)
        _require_columns(names, [session_id, *([target] if target else []), *feature_names])

        session_ids = _column(columns, session_id)
        matrix = np.empty((len(session_ids), len(feature_names)), dtype=np.float32)  # (N, F)
        for j, name in enumerate(feature_names):
            values = _numeric_column(columns, name)
            if len(values) != len(session_ids):
                raise MotionDataError(
                    f"column {name!r} has {len(values)} rows but {session_id!r} has "
                    f"{len(session_ids)}; all columns must have the same length"
                )
            matrix[:, j] = values
        return cls(
            session_ids=session_ids,
            features=matrix,
            feature_names=tuple(feature_names),
            targets=_column(columns, target) if target is not None else None,
            session_column=session_id,
            target_column=target,
        )

    @property
    def num_rows(self) -> int:
        return len(self.session_ids)

    @cached_property
    def session_starts(self) -> np.ndarray:
        """(S,) index of each session's first row."""
        ids = self.session_ids
        return np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])

    @cached_property
    def session_lengths(self) -> np.ndarray:
        """(S,) rows per session."""
        return np.diff(np.r_[self.session_starts, self.num_rows])

    @property
    def labels(self) -> np.ndarray:
        """(N,) the class label of each row; raises when the data has no target column."""
        if self.targets is None:
            name = f" {self.target_column!r}" if self.target_column else ""
            raise MotionDataError(
                f"the data has no target column{name}; training and evaluation need a label per row"
            )
        return self.targets

    @property
    def num_sessions(self) -> int:
        return len(self.session_starts)

    def take_rows(self, mask: np.ndarray) -> MotionData:
        """The rows where mask (N,) is True, in order."""
        return replace(
            self,
            session_ids=self.session_ids[mask],
            features=self.features[mask],
            targets=None if self.targets is None else self.targets[mask],
        )

    def with_features(self, names: Sequence[str]) -> MotionData:
        """The same rows with feature columns `names`, in that order."""
        names = tuple(names)
        if names == self.feature_names:
            return self
        missing = [name for name in names if name not in self.feature_names]
        if missing:
            raise MotionDataError(
                f"missing feature column(s) {missing}; the model needs {list(names)} and the "
                f"data has {list(self.feature_names)}"
            )
        index = [self.feature_names.index(name) for name in names]
        return replace(self, features=self.features[:, index], feature_names=names)


def _feature_names(
    names: list[str], session_id: str, target: str | None, features: Sequence[str] | None
) -> list[str]:
    if features is None:
        chosen = [name for name in names if name not in (session_id, target)]
        if not chosen:
            raise MotionDataError(
                f"no feature columns: the data has only {names}; add numeric sensor columns"
            )
        return chosen
    if isinstance(features, str) or not all(isinstance(name, str) for name in features):
        raise TypeError(f"features must be a list of column names; got {features!r}")
    chosen = list(features)
    if not chosen:
        raise MotionDataError("features is empty; name at least one feature column")
    if len(set(chosen)) != len(chosen):
        raise MotionDataError(f"features lists a column twice: {chosen}")
    clashes = [name for name in chosen if name in (session_id, target)]
    if clashes:
        raise MotionDataError(f"{clashes} cannot be both a feature and the session id / target")
    return chosen


def _require_columns(names: list[str], needed: list[str]) -> None:
    missing = [name for name in needed if name not in names]
    if missing:
        raise MotionDataError(f"missing column(s) {missing}; the data has columns {names}")


def _column(columns: Columns, name: str) -> np.ndarray:
    """A column as a NumPy array; nulls raise with the first null row."""
    values = columns[name] if not isinstance(columns, pa.Table) else columns.column(name)
    if isinstance(values, pa.ChunkedArray | pa.Array):
        if values.null_count:
            first = int(np.flatnonzero(pc.is_null(values).to_numpy(zero_copy_only=False))[0])
            raise _missing_value(name, first, values.null_count)
        return values.to_numpy(zero_copy_only=False)
    array = np.asarray(values)
    if array.ndim != 1:
        raise MotionDataError(f"column {name!r} must be one-dimensional; got shape {array.shape}")
    if array.dtype.kind == "O":
        missing = np.flatnonzero(_is_none(array))
        if len(missing):
            raise _missing_value(name, int(missing[0]), len(missing))
    return array


def _numeric_column(columns: Columns, name: str) -> np.ndarray:
    values = _column(columns, name)
    if values.dtype.kind in "biuf":
        return values
    try:
        return values.astype(np.float64)
    except (TypeError, ValueError):
        raise MotionDataError(
            f"feature column {name!r} must be numeric; it holds {values.dtype} values such as "
            f"{values[0]!r}. Pass `features` to leave it out."
        ) from None


def _label_array(values: Any, column: str, role: str) -> np.ndarray:
    """Session ids or class labels as an int64 or str array (Turi Create allows only these)."""
    array = np.asarray(values)
    kind = array.dtype.kind
    if kind in "iu":
        return array.astype(np.int64, copy=False)
    if kind in "US":
        return array.astype(str, copy=False)
    if kind == "O":
        missing = np.flatnonzero(_is_none(array))
        if len(missing):
            raise _missing_value(column, int(missing[0]), len(missing))
        return array.astype(str)
    raise MotionDataError(
        f"{role} column {column!r} must hold strings or integers; it holds {array.dtype} values"
        " (cast whole-number floats to integers, or use string ids)"
    )


def _missing_value(column: str, row: int, count: int) -> MotionDataError:
    return MotionDataError(
        f"missing value (None) in column {column!r} at row {row} ({count} row(s) in all); "
        "drop or fill those rows first"
    )


def _check_finite(features: np.ndarray, names: tuple[str, ...]) -> None:
    bad = ~np.isfinite(features)
    if not bad.any():
        return
    rows, cols = np.nonzero(bad)
    value = features[rows[0], cols[0]]
    what = (
        "missing value (None or NaN)"
        if np.isnan(value)
        else f"non-finite value ({value}: infinite, or too large for float32)"
    )
    raise MotionDataError(
        f"{what} in feature column {names[cols[0]]!r} at row {rows[0]} ({len(rows)} value(s) "
        "in all); drop or fill those rows first"
    )


def _is_none(array: np.ndarray) -> np.ndarray:
    """(N,) bool: which entries of an object array are None (vectorised)."""
    return np.equal(array, None)  # type: ignore[call-overload]  # NumPy's stubs omit None
