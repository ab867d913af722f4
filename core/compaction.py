"""Compaction: small packs merged into large ones, so that loading a run's data stays as fast
after 100,000 phone uploads as after one bulk upload.

Each upload writes its own pack, and a run opens every pack it reads from once (a memory map or
a ranged read, then the segment's footer): about 0.2 ms a pack, a second per 5,000 uploads.
A pass takes the oldest small packs (under SMALL_PACK_BYTES, not retired) in groups of up to
TARGET_PACK_BYTES, and for each group:

1. reads where its blobs lie (one query) and their record batches, and writes one new pack;
2. in one transaction: records the new pack, moves each blob to it by an UPDATE guarded by the
   place read in 1 (a blob deleted or moved meanwhile is left alone: its copy is dead weight),
   and marks the old packs that no blob is left in as retired;
3. a retired pack's file stays for the store's grace period, for a reader that looked a blob
   up just before the move; then the collector removes it (core/blobs.py, collect_garbage).
A new pack into which no blob moved (all deleted meanwhile) goes at once.

Concurrent readers keep finding what they looked up (the grace period); deletes lock the blob
row they delete, and a move never touches a deleted blob; an upload's pack is no candidate
until it is committed, and an upload never moves a committed blob; another compactor (one per
API process) moves a blob at most once, guarded the same way.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import pyarrow as pa
from sqlalchemy import Table, bindparam, exists, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.blobs import LOCATION_COLUMNS
from core.db import rows_changed, unit_of_work
from core.models import Blob, Pack, utcnow
from core.storage import BlobLocation, PackStore

log = logging.getLogger("motionlab.store")

SMALL_PACK_BYTES = 16 << 20  # a pack under this is merged (a phone's recording: ~200 KB)
TARGET_PACK_BYTES = 64 << 20  # what a merged pack holds at most (also the memory one group reads
# from S3; from a local store the batches are memory-mapped)
MIN_PACKS = 8  # fewer small packs than this wait for the next pass
MAX_BYTES_PER_PASS = 1 << 30  # a pass's work: a few seconds of the collector's thread
COMPACT_INTERVAL_S = 60.0  # how often `serve`'s collector makes a pass (service/store_collector.py)


@dataclass(frozen=True)
class Compacted:
    packs: int  # small packs retired
    blobs: int  # blobs moved
    written: int  # new packs


def compact_packs(
    factory: sessionmaker[Session], store: PackStore, *, max_bytes: int = MAX_BYTES_PER_PASS
) -> Compacted:
    """One pass: merge the oldest small packs, at most `max_bytes` of them."""
    with unit_of_work(factory) as db:
        small: Sequence[tuple[str, int]] = db.execute(
            select(Pack.id, Pack.size_bytes)
            .where(Pack.size_bytes < SMALL_PACK_BYTES, Pack.retired_at.is_(None))
            .order_by(Pack.created_at, Pack.id)
            .limit(max(MIN_PACKS, max_bytes // 4096))  # bounded, whatever the backlog
        ).all()
    packs = blobs = written = 0
    for group in _groups(small, max_bytes):
        retired, moved = _merge(factory, store, group)
        packs, blobs, written = packs + retired, blobs + moved, written + (moved > 0)
    if written:
        log.info("store compacted packs=%d blobs=%d into=%d", packs, blobs, written)
    return Compacted(packs, blobs, written)


def _groups(small: Sequence[tuple[str, int]], max_bytes: int) -> list[list[str]]:
    """Consecutive packs up to TARGET_PACK_BYTES a group, MIN_PACKS at least, max_bytes in all."""
    groups: list[list[str]] = []
    current: list[str] = []
    size = total = 0
    for pack_id, size_bytes in small:
        if total + size_bytes > max_bytes:
            break
        if current and size + size_bytes > TARGET_PACK_BYTES:
            groups.append(current)
            current, size = [], 0
        current.append(pack_id)
        size, total = size + size_bytes, total + size_bytes
    groups.append(current)
    return [group for group in groups if len(group) >= MIN_PACKS]


class _NothingMoved(Exception):
    pass


def _merge(
    factory: sessionmaker[Session], store: PackStore, pack_ids: list[str]
) -> tuple[int, int]:
    """Merge the packs' blobs into one new pack; (packs retired, blobs moved)."""
    with unit_of_work(factory) as db:
        rows = db.execute(
            select(Blob.sha256, *LOCATION_COLUMNS)
            .where(Blob.pack_id.in_(pack_ids))
            .order_by(Blob.pack_id, Blob.segment_offset, Blob.batch)
        ).all()
    read: list[tuple[str, BlobLocation, pa.Table]] = []
    for pack_id, blobs in itertools.groupby(rows, key=lambda row: row.pack_id):
        places = [
            (
                row.sha256,
                BlobLocation(row.pack_id, row.segment_offset, row.segment_bytes, row.batch),
            )
            for row in blobs
        ]
        try:
            batches = list(store.read_batches([place for _, place in places]))
        except FileNotFoundError:  # every blob in it deleted meanwhile, and the pack with them
            log.info("store compaction skipped a pack deleted meanwhile pack=%s", pack_id)
            continue
        read += [
            (sha, place, pa.Table.from_batches([batch]))
            for (sha, place), batch in zip(places, batches, strict=True)
        ]
    if not read:
        return 0, 0  # emptied by deletes: the collector drops them
    written = store.write_tables([table for _, _, table in read])
    moves = [
        {
            "b_sha256": sha,
            "b_old_pack": before.pack_id,
            "b_old_offset": before.segment_offset,
            "b_old_batch": before.batch,
            "b_pack": after.pack_id,
            "b_offset": after.segment_offset,
            "b_bytes": after.segment_bytes,
            "b_batch": after.batch,
        }
        # sorted by sha256: one lock order for every compactor
        for (sha, before, _), after in sorted(
            zip(read, written.places, strict=True), key=lambda pair: pair[0][0]
        )
    ]
    try:
        with unit_of_work(factory) as db:
            retired, moved = _move(db, written.pack_id, written.size_bytes, moves, pack_ids)
    except _NothingMoved:
        store.delete_pack(written.pack_id)  # never committed: no one can know its name
        return 0, 0
    return retired, moved


def _move(db: Session, pack_id: str, size_bytes: int, moves: list[dict], old: list[str]):
    db.execute(insert(Pack), [{"id": pack_id, "size_bytes": size_bytes}])
    blobs = cast(Table, Blob.__table__)
    db.connection().execute(  # Core executemany: one statement, a parameter set per blob
        update(blobs)
        .where(
            blobs.c.sha256 == bindparam("b_sha256"),
            blobs.c.pack_id == bindparam("b_old_pack"),
            blobs.c.segment_offset == bindparam("b_old_offset"),
            blobs.c.batch == bindparam("b_old_batch"),
        )
        .values(
            pack_id=bindparam("b_pack"),
            segment_offset=bindparam("b_offset"),
            segment_bytes=bindparam("b_bytes"),
            batch=bindparam("b_batch"),
        ),
        moves,
    )
    moved = db.scalar(select(func.count()).select_from(Blob).where(Blob.pack_id == pack_id)) or 0
    if not moved:
        raise _NothingMoved()  # the unit of work rolls the new pack's row back
    retired = rows_changed(
        db,
        update(Pack)
        .where(
            Pack.id.in_(old), Pack.retired_at.is_(None), ~exists().where(Blob.pack_id == Pack.id)
        )
        .values(retired_at=utcnow())
        .execution_options(synchronize_session=False),
    )
    return retired, moved
