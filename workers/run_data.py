"""A run's frozen data selection → one MotionData per part, read from the blob store."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import RunSession
from core.storage import BlobStore
from workers.motion_data import MotionData

SESSION_COLUMN = "session_id"
PARTS = ("train", "valid", "test")


def run_sessions(db: Session, run_id: str) -> list[RunSession]:
    query = select(RunSession).where(RunSession.run_id == run_id).order_by(RunSession.position)
    return list(db.scalars(query))


def stack_sessions(
    store: BlobStore, sessions: list[RunSession], *, features: list[str], target: str
) -> MotionData:
    """Concatenate sessions (in order) into rows: ids, features (N, F), one label per row."""
    blocks, ids, labels = [], [], []
    for session in sessions:
        table = store.read_table(session.blob_sha256)
        block = np.column_stack([table.column(name).to_numpy() for name in features])
        blocks.append(block.astype(np.float32, copy=False))
        ids.append(np.full(len(block), session.session_id, dtype=object))
        labels.append(np.full(len(block), session.label, dtype=object))
    return MotionData(
        session_ids=np.concatenate(ids),
        features=np.concatenate(blocks),
        feature_names=tuple(features),
        targets=np.concatenate(labels),
        session_column=SESSION_COLUMN,
        target_column=target,
    )


def load_parts(
    store: BlobStore, sessions: list[RunSession], *, features: list[str], target: str
) -> dict[str, MotionData]:
    """{'train': …, 'valid': …, 'test': …} for the parts that have sessions."""
    return {
        part: stack_sessions(store, chosen, features=features, target=target)
        for part in PARTS
        if (chosen := [s for s in sessions if s.part == part])
    }
