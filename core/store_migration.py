"""The data steps of the migrations, run by `motionlab migrate` after the schema migrations (a
second run finds nothing): 0004's per-session Parquet files (the store before packs) into
packs, and 0008's unit checks (core/channel_migration.py)."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.channel_migration import check_stored_units
from core.db import after_commit, make_engine, make_session_factory, unit_of_work
from core.models import Blob, Pack
from core.settings import Settings
from core.storage import PackStore, pack_store

log = logging.getLogger("motionlab.store")
SESSIONS_PER_PACK = 1000


def legacy_path(legacy_root: Path, sha256: str) -> str:
    """Where the store before packs kept a blob: <home>/blobs/<sha[:2]>/<sha>.parquet."""
    return os.path.join(legacy_root, sha256[:2], f"{sha256}.parquet")


def pack_legacy_blobs(factory: sessionmaker[Session], store: PackStore, legacy_root: Path) -> int:
    """Move every blob not yet in a pack from its Parquet file (under `legacy_root`) into
    packs; the number moved. A blob whose file is gone stays out of every pack (reading it
    says so)."""
    with unit_of_work(factory) as db:
        waiting = list(db.scalars(select(Blob.sha256).where(Blob.pack_id.is_(None))))
    present = [sha for sha in waiting if os.path.exists(legacy_path(legacy_root, sha))]
    for start in range(0, len(present), SESSIONS_PER_PACK):
        chunk = present[start : start + SESSIONS_PER_PACK]
        pack = store.write_pack(
            {sha: pq.read_table(legacy_path(legacy_root, sha)) for sha in chunk}
        )
        with unit_of_work(factory) as db:
            db.add(Pack(id=pack.pack_id, size_bytes=pack.size_bytes))
            db.flush()
            for sha, where in pack.locations.items():
                db.execute(
                    update(Blob)
                    .where(Blob.sha256 == sha)
                    .values(
                        pack_id=where.pack_id,
                        segment_offset=where.segment_offset,
                        segment_bytes=where.segment_bytes,
                        batch=where.batch,
                    )
                )
            after_commit(db, lambda chunk=chunk: _remove_legacy(legacy_root, chunk))
    lost = len(waiting) - len(present)
    if lost:
        log.warning("store migration: blobs already missing count=%d (upload them again)", lost)
    if present:
        log.info("store migration: blobs packed count=%d", len(present))
    return len(present)


def _remove_legacy(legacy_root: Path, hashes: list[str]) -> None:
    for sha in hashes:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(legacy_path(legacy_root, sha))
        with contextlib.suppress(OSError):  # not empty yet, or gone
            os.rmdir(os.path.dirname(legacy_path(legacy_root, sha)))


def migrate_store(settings: Settings) -> int:
    """The data steps for the store of `settings` (after the schema is at head): Parquet files
    into packs (0004), then the unit checks of sessions stored before channels (0008)."""
    engine = make_engine(settings.resolved_database_url)
    try:
        factory = make_session_factory(engine)
        store = pack_store(settings)
        packed = pack_legacy_blobs(factory, store, settings.blobs_dir)
        check_stored_units(factory, store)
        return packed
    finally:
        engine.dispose()
