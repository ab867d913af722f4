"""The data exchanged with runner.py, in binary columns both ways (NumPy .npy files).

The data directory (written here, read by the runner):
    manifest.json                  session_column, target_column (null for prediction),
                                   features, classes (the labels the codes index), and per part
                                   {"rows", "sessions"}
    <part>.features.npy            (F, N) float32: one feature column a row, in `features` order
    <part>.session_lengths.npy     (S,) int64 rows of each session, in order
    <part>.targets.npy             (N,) int32 index of each row's label in `classes`
`part` is train | valid | test (prediction writes one part). A session is a contiguous run of
rows with one id (Turi Create's rule), so lengths say everything the runner needs; the runner
numbers the sessions 0..S-1 and this side keeps the ids.

The prediction directory (written by the runner, read here):
    probabilities.npy              (M, C) float64, columns in the model's class order
    session.npy, prediction_id.npy (M,) int64, per_window only: the session number (as above)
                                   and Turi Create's chunk index of each window

Turi Create turns each Python string or float it is given into its own type one at a time
(about 4 us a string), and parses CSV slower still; NumPy columns cost neither side a pass per
value except the runner's conversion of floats (a C loop) and of labels (one C++ pass a class).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workers.motion_data import MotionData

PARTS = ("train", "valid", "test")
MANIFEST = "manifest.json"


def write_parts(directory: Path, *, parts: Mapping[str, MotionData]) -> int:
    """Write the parts (train / valid / test) into `directory`; returns the rows written."""
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise ValueError(f"unknown part(s) {unknown}; parts are {list(PARTS)}")
    ordered = [(part, parts[part]) for part in PARTS if part in parts]
    if not ordered:
        raise ValueError("no data to write: give at least one part")
    first = ordered[0][1]
    layout = (first.feature_names, first.session_column, first.target_column)
    for part, data in ordered:
        if (data.feature_names, data.session_column, data.target_column) != layout:
            raise ValueError(f"part {part!r} has other columns than part {ordered[0][0]!r}")
        if (data.targets is None) != (first.targets is None):
            raise ValueError("either every part has targets or none has")
    labelled = first.targets is not None
    names = [first.session_column, *([first.target_column or "target"] if labelled else [])]
    if len(set(names + list(first.feature_names))) != len(names) + len(first.feature_names):
        raise ValueError(f"column names collide: {names} and features {first.feature_names}")
    classes = _classes([data.labels for _, data in ordered]) if labelled else []

    directory.mkdir(parents=True, exist_ok=True)
    described = {}
    for part, data in ordered:
        np.save(directory / f"{part}.features.npy", np.ascontiguousarray(data.features.T))
        np.save(directory / f"{part}.session_lengths.npy", data.session_lengths.astype(np.int64))
        if data.targets is not None:
            codes = np.searchsorted(np.asarray(classes), data.targets).astype(np.int32)
            np.save(directory / f"{part}.targets.npy", codes)
        described[part] = {"rows": data.num_rows, "sessions": len(data.session_lengths)}
    manifest = {
        "session_column": first.session_column,
        "target_column": (first.target_column or "target") if labelled else None,
        "features": list(first.feature_names),
        "classes": classes,
        "parts": described,
    }
    # Last: the runner reads the manifest first, and only once the engine says the data is whole.
    (directory / MANIFEST).write_text(json.dumps(manifest))
    return sum(info["rows"] for info in described.values())


def _classes(targets: list[np.ndarray]) -> list:
    """The sorted distinct labels of every part, as JSON values (ints stay ints)."""
    return np.unique(np.concatenate(targets)).tolist()


@dataclass(frozen=True, eq=False)
class Probabilities:
    """Class probabilities read back from the runner, rows (or windows) in input order."""

    classes: list
    probabilities: np.ndarray  # (M, C) float64, columns in `classes` order
    session_ids: np.ndarray  # (M,) the session id of each row or window
    prediction_ids: np.ndarray | None = None  # (M,) int, per_window: chunk index (spec §3.1)


def read_probabilities(directory: Path, *, classes: list, data: MotionData) -> Probabilities:
    """The runner's predictions on `data` (the part it was given), ids mapped back."""
    probabilities = np.load(directory / "probabilities.npy")
    if probabilities.shape[1:] != (len(classes),):
        raise ValueError(f"{directory}: {probabilities.shape} probabilities for {classes}")
    sessions_file = directory / "session.npy"
    if not sessions_file.is_file():  # per_row: the rows' own ids
        return Probabilities(classes, probabilities, data.session_ids)
    sessions = np.load(sessions_file)  # (M,) the session number of each window
    return Probabilities(
        classes,
        probabilities,
        data.session_ids[data.session_starts[sessions]],
        np.load(directory / "prediction_id.npy"),
    )
