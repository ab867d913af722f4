"""The files exchanged with runner.py: rows CSV in, probability CSV / JSON out.

rows CSV (written here, read by the runner): a header, then stacked session rows in order:
    <session column>,<target column>,part,<feature 1>,…,<feature F>
`part` is train | valid | test; the target column is left out for prediction.

probability CSV (written by the runner, read here): a header, then one row per input row
(per_row) or per window (per_window), in input order; the last C columns are the class
probabilities, headed by the class labels in the model's class order:
    session_id[,target][,prediction_id,window],<class 1>,…,<class C>
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workers.motion_data import MotionData

PART_COLUMN = "part"
PARTS = ("train", "valid", "test")
KEY_COLUMNS = ("session_id", "target", "prediction_id", "window")


def write_rows_csv(path: Path, *, parts: Mapping[str, MotionData]) -> int:
    """Write the parts (train / valid / test, in that order) as one rows CSV; returns rows."""
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise ValueError(f"unknown part(s) {unknown}; parts are {list(PARTS)}")
    ordered = [(part, parts[part]) for part in PARTS if part in parts]
    if not ordered:
        raise ValueError("no data to write: give at least one part")
    first = ordered[0][1]
    for part, data in ordered:
        if (data.feature_names, data.session_column, data.target_column) != (
            first.feature_names,
            first.session_column,
            first.target_column,
        ):
            raise ValueError(f"part {part!r} has other columns than part {ordered[0][0]!r}")
    target = [first.target_column or "target"] if first.targets is not None else []
    header = [first.session_column, *target, PART_COLUMN, *first.feature_names]
    if len(set(header)) != len(header):
        raise ValueError(f"column names collide: {header} ({PART_COLUMN!r} is reserved)")
    rows = 0
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for part, data in ordered:
            if (data.targets is None) != (first.targets is None):
                raise ValueError("either every part has targets or none has")
            labels = data.targets
            # float32 → Python float keeps the exact value; repr round-trips it.
            for i, values in enumerate(data.features.tolist()):
                key = [data.session_ids[i]] + ([labels[i]] if labels is not None else [])
                writer.writerow([*key, part, *map(repr, values)])
            rows += len(data.session_ids)
    return rows


@dataclass(frozen=True, eq=False)
class Probabilities:
    """Class probabilities read back from the runner, rows in input order."""

    classes: list[str]
    session_ids: np.ndarray  # (N,) str (numpy unicode, like MotionData)
    probabilities: np.ndarray  # (N, C) float64, columns in `classes` order
    targets: np.ndarray | None = None  # (N,) str, training outputs only
    prediction_ids: np.ndarray | None = None  # (N,) int, per_window: chunk index (spec §3.1)
    windows: np.ndarray | None = None  # (N,) int, per_window: window index in its session


def read_probabilities_csv(path: Path) -> Probabilities:
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    keys = [name for name in header if name in KEY_COLUMNS]
    if header[: len(keys)] != keys or not keys:
        raise ValueError(f"{path} does not look like a runner probability CSV: {header}")
    classes = header[len(keys) :]
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(header)
    probabilities = np.array([row[len(keys) :] for row in rows], dtype=np.float64)
    probabilities = probabilities.reshape(len(rows), len(classes))  # (N, C)
    by_name = dict(zip(keys, columns, strict=False))

    def optional(name: str, dtype: type) -> np.ndarray | None:
        return np.array(by_name[name], dtype=dtype) if name in by_name else None

    return Probabilities(
        classes=classes,
        session_ids=np.array(by_name["session_id"], dtype=str),
        probabilities=probabilities,
        targets=optional("target", str),
        prediction_ids=optional("prediction_id", np.int64),
        windows=optional("window", np.int64),
    )
