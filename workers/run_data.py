"""A run's frozen data selection → one MotionData per part, read from the packs.

Each feature is read from its sources in each session (core/channels.py: a column times its
scale into the canonical unit, or two columns for a derived one), frozen with the run.
Vectorised: the sessions' record batches come from each pack mapped once; sessions laid out
alike are read together, each feature one concatenation per layout, and session ids and
labels are repeated per row by NumPy.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.blobs import LOCATION_COLUMNS, locate, location
from core.channels import Source, combine
from core.models import Blob, RunSession
from core.storage import BlobLocation, BlobMissing, PackStore
from workers.motion_data import MotionData

SESSION_COLUMN = "session_id"
PARTS = ("train", "valid", "test")
# (sessions loaded, rows loaded): the run's data as it loads
OnLoaded = Callable[[int, int], None]


class StoredSession(NamedTuple):
    """One session of a selection: its id, its label, where its samples lie, and where each
    feature comes from in them (None: each feature is its own column, unscaled)."""

    session_id: str
    label: str
    location: BlobLocation
    sources: tuple[Source, ...] | None = None


def run_sessions(db: Session, run_id: str) -> list[RunSession]:
    query = select(RunSession).where(RunSession.run_id == run_id).order_by(RunSession.position)
    return list(db.scalars(query))


def stack(
    store: PackStore, sessions: Sequence[StoredSession], *, features: list[str], target: str
) -> MotionData:
    """Concatenate sessions (in order) into rows: ids, features (N, F), one label per row."""
    groups: dict[tuple[Source, ...], list[int]] = {}  # sessions laid out alike, read together
    for position, session in enumerate(sessions):
        key = session.sources or tuple(((name, 1.0),) for name in features)
        groups.setdefault(key, []).append(position)
    read: dict[tuple[Source, ...], dict[str, list[pa.Array]]] = {}
    lengths = np.empty(len(sessions), dtype=np.int64)
    for sources, positions in groups.items():
        names = list(dict.fromkeys(name for source in sources for name, _ in source))
        columns = store.read_columns([sessions[i].location for i in positions], names)
        lengths[positions] = [len(array) for array in columns[0]]
        read[sources] = dict(zip(names, columns, strict=True))
    starts = np.cumsum(lengths) - lengths
    values = np.empty((int(lengths.sum()), len(features)), dtype=np.float32)  # (N, F)
    for sources, positions in groups.items():
        rows = _rows_of(positions, starts, lengths)
        arrays = read.pop(sources)
        for j, source in enumerate(sources):
            values[rows, j] = _feature(source, arrays)
    ids = np.array([s.session_id for s in sessions], dtype=str)
    labels = np.array([s.label for s in sessions], dtype=str)
    return MotionData(
        session_ids=np.repeat(ids, lengths),
        features=values,
        feature_names=tuple(features),
        targets=np.repeat(labels, lengths),
        session_column=SESSION_COLUMN,
        target_column=target,
    )


def _feature(source: Source, columns: dict[str, list[pa.Array]]) -> np.ndarray:
    """One feature of sessions laid out alike, from their columns' arrays (one at a time:
    a run's data is held once, as float32)."""
    return combine(source, lambda name: pa.concat_arrays(columns[name]).to_numpy())


def _rows_of(positions: list[int], starts: np.ndarray, lengths: np.ndarray) -> slice | np.ndarray:
    """The rows of these sessions in the stacked data: a slice when they are all of them."""
    if len(positions) == len(starts):
        return slice(None)
    chosen = np.asarray(positions)
    counts = lengths[chosen]
    offsets = np.repeat(starts[chosen] - np.cumsum(counts) + counts, counts)
    return offsets + np.arange(int(counts.sum()))


def stack_sessions(
    db: Session,
    store: PackStore,
    sessions: list[RunSession],
    *,
    features: list[str],
    target: str,
) -> MotionData:
    """`stack` for RunSession rows (a run's part, or stored sessions picked for evaluation)."""
    where = locate(db, [s.blob_sha256 for s in sessions])
    chosen = [
        StoredSession(s.session_id, s.label, where[s.blob_sha256], _sources(s.sources))
        for s in sessions
    ]
    return stack(store, chosen, features=features, target=target)


def _sources(stored: list | None) -> tuple[Source, ...] | None:
    """Frozen sources as stored (JSON lists), as hashable tuples."""
    if stored is None:
        return None
    return tuple(tuple((name, float(scale)) for name, scale in source) for source in stored)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Without the cyclic GC: building 10,000s of small objects (rows, locations, arrays) that
    all stay alive would otherwise trigger collections that walk them all, again and again."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_run_parts(
    db: Session,
    store: PackStore,
    run_id: str,
    *,
    features: list[str],
    target: str,
    on_loaded: OnLoaded | None = None,
) -> dict[str, MotionData]:
    """{'train': …, 'valid': …, 'test': …} for the parts of the run that have sessions: one
    query for the selection and where its samples lie, then each pack read once.
    on_loaded: told after each part (sessions and rows loaded so far)."""
    with paused_gc():
        return _load_run_parts(db, store, run_id, features, target, on_loaded)


def _load_run_parts(
    db: Session,
    store: PackStore,
    run_id: str,
    features: list[str],
    target: str,
    on_loaded: OnLoaded | None,
) -> dict[str, MotionData]:
    rows = db.execute(
        select(
            RunSession.part,
            RunSession.session_id,
            RunSession.label,
            RunSession.sources,
            *LOCATION_COLUMNS,
        )
        .join(Blob, Blob.sha256 == RunSession.blob_sha256)
        .where(RunSession.run_id == run_id)
        .order_by(RunSession.position)
    ).all()
    by_part: dict[str, list[StoredSession]] = {}
    for part, session_id, label, sources, *where in rows:
        place = location(*where)
        if place is None:
            raise BlobMissing(
                f"the samples of session {session_id!r} were lost before the store was "
                "migrated to packs; this run cannot load its data"
            )
        by_part.setdefault(part, []).append(
            StoredSession(session_id, label, place, _sources(sources))
        )
    loaded: dict[str, MotionData] = {}
    sessions = rows_loaded = 0
    for part in (part for part in PARTS if part in by_part):
        loaded[part] = stack(store, by_part[part], features=features, target=target)
        sessions += len(by_part[part])
        rows_loaded += loaded[part].num_rows
        if on_loaded is not None:
            on_loaded(sessions, rows_loaded)
    return loaded
