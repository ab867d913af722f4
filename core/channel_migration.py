"""The data step of migration 0008: the unit checks of sessions stored before channels (their
levels and warnings need the samples). Run by `motionlab migrate` after the schema
migrations; a second run finds nothing left."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pyarrow as pa
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.blobs import LOCATION_COLUMNS, location
from core.channels import layout_of
from core.db import unit_of_work
from core.models import Blob, MotionSession
from core.storage import PackStore
from core.unit_checks import check_session

log = logging.getLogger("motionlab.store")
SESSIONS_PER_STEP = 500


def check_stored_units(factory: sessionmaker[Session], store: PackStore) -> int:
    """Levels and warnings for every session that has none yet; the number checked. A session
    whose samples were lost before packs stays unchecked."""
    query = (
        select(MotionSession.project, MotionSession.id, MotionSession.channels, *LOCATION_COLUMNS)
        .join(Blob, Blob.sha256 == MotionSession.blob_sha256)
        .where(MotionSession.channel_levels.is_(None))
        .order_by(MotionSession.id)
    )
    with unit_of_work(factory) as db:
        waiting = db.execute(query).all()
    checked = 0
    for start in range(0, len(waiting), SESSIONS_PER_STEP):
        results = []
        for project, session_id, channels, *where in waiting[start : start + SESSIONS_PER_STEP]:
            place = location(*where)
            if place is None:
                continue
            levels, warnings = check_session(layout_of(channels), _reader(store.read_table(place)))
            results.append((project, session_id, levels, warnings))
        with unit_of_work(factory) as db:
            for project, session_id, levels, warnings in results:
                db.execute(
                    update(MotionSession)
                    .where(
                        MotionSession.project == project,
                        MotionSession.id == session_id,
                        MotionSession.channel_levels.is_(None),
                    )
                    .values(channel_levels=levels, warnings=warnings or None)
                )
        checked += len(results)
    if checked:
        log.info("store migration: sessions unit-checked count=%d", checked)
    return checked


def _reader(table: pa.Table) -> Callable[[str], np.ndarray]:
    return lambda column: table.column(column).to_numpy()
