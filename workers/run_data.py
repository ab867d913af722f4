"""A run's frozen data selection → one MotionData per part, read from the packs.

Vectorised: the sessions' record batches come from each pack mapped once; each feature column
is one concatenation, and session ids and labels are repeated per row by NumPy.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.blobs import LOCATION_COLUMNS, locate, location
from core.models import Blob, RunSession
from core.storage import BlobLocation, BlobMissing, PackStore
from workers.motion_data import MotionData

SESSION_COLUMN = "session_id"
PARTS = ("train", "valid", "test")


class StoredSession(NamedTuple):
    """One session of a selection: its id, its label, and where its samples lie."""

    session_id: str
    label: str
    location: BlobLocation


def run_sessions(db: Session, run_id: str) -> list[RunSession]:
    query = select(RunSession).where(RunSession.run_id == run_id).order_by(RunSession.position)
    return list(db.scalars(query))


def stack(
    store: PackStore, sessions: Sequence[StoredSession], *, features: list[str], target: str
) -> MotionData:
    """Concatenate sessions (in order) into rows: ids, features (N, F), one label per row."""
    columns = store.read_columns([s.location for s in sessions], features)
    lengths = np.fromiter((len(a) for a in columns[0]), dtype=np.int64, count=len(sessions))
    values = np.empty((int(lengths.sum()), len(features)), dtype=np.float32)  # (N, F)
    for j, arrays in enumerate(columns):
        values[:, j] = pa.concat_arrays(arrays).to_numpy()
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
    chosen = [StoredSession(s.session_id, s.label, where[s.blob_sha256]) for s in sessions]
    return stack(store, chosen, features=features, target=target)


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
    db: Session, store: PackStore, run_id: str, *, features: list[str], target: str
) -> dict[str, MotionData]:
    """{'train': …, 'valid': …, 'test': …} for the parts of the run that have sessions: one
    query for the selection and where its samples lie, then each pack read once."""
    with paused_gc():
        return _load_run_parts(db, store, run_id, features=features, target=target)


def _load_run_parts(
    db: Session, store: PackStore, run_id: str, *, features: list[str], target: str
) -> dict[str, MotionData]:
    rows = db.execute(
        select(RunSession.part, RunSession.session_id, RunSession.label, *LOCATION_COLUMNS)
        .join(Blob, Blob.sha256 == RunSession.blob_sha256)
        .where(RunSession.run_id == run_id)
        .order_by(RunSession.position)
    ).all()
    by_part: dict[str, list[StoredSession]] = {}
    for part, session_id, label, *where in rows:
        place = location(*where)
        if place is None:
            raise BlobMissing(
                f"the samples of session {session_id!r} were lost before the store was "
                "migrated to packs; this run cannot load its data"
            )
        by_part.setdefault(part, []).append(StoredSession(session_id, label, place))
    return {
        part: stack(store, by_part[part], features=features, target=target)
        for part in PARTS
        if part in by_part
    }
