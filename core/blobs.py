"""Which blobs exist, where they lie, and when their packs go: decided in the database.

A blob row is deleted only in a transaction that finds no session and no run referencing it
(foreign keys make the database refuse anything else), and a pack only once none of its blobs
is left; its file is removed after that commit. What a crash leaves behind (a pack written but
never committed, a file whose row went but which outlived its process) is removed by
`collect_garbage` once it is older than the grace period, never earlier: an upload writes its
pack before it commits.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, exists, insert, or_, select, union
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from core.db import after_commit, unit_of_work
from core.models import Blob, MotionSession, Pack, RunSession, utcnow
from core.projects import ALL_PROJECTS
from core.storage import BlobLocation, BlobMissing, PackStore, WrittenPack

log = logging.getLogger("motionlab.store")


def known_blobs(db: Session, hashes: list[str]) -> set[str]:
    """Those of `hashes` already stored (whatever references them)."""
    found: set[str] = set()
    for start in range(0, len(hashes), 500):  # bound the IN list
        chunk = hashes[start : start + 500]
        found.update(db.scalars(select(Blob.sha256).where(Blob.sha256.in_(chunk))))
    return found


def add_pack(db: Session, pack: WrittenPack) -> set[str]:
    """Record a written pack and its blobs; the hashes recorded. A blob that a concurrent
    upload recorded first keeps that upload's copy (this pack's copy is dead weight)."""
    db.execute(insert(Pack), [{"id": pack.pack_id, "size_bytes": pack.size_bytes}])
    rows = [
        {
            "sha256": sha,
            "pack_id": where.pack_id,
            "segment_offset": where.segment_offset,
            "segment_bytes": where.segment_bytes,
            "batch": where.batch,
        }
        for sha, where in pack.locations.items()
    ]
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Blob).on_conflict_do_nothing().returning(Blob.sha256)
    recorded = {sha for sha in db.scalars(statement, rows)} if rows else set()
    if not recorded:
        db.execute(delete(Pack).where(Pack.id == pack.pack_id))
    return recorded


LOCATION_COLUMNS = (Blob.pack_id, Blob.segment_offset, Blob.segment_bytes, Blob.batch)


def location(pack_id, segment_offset, segment_bytes, batch) -> BlobLocation | None:
    """A blob's place from its LOCATION_COLUMNS; None for samples lost before packs."""
    if pack_id is None:
        return None
    return BlobLocation(pack_id, segment_offset, segment_bytes, batch)


def locate(db: Session, hashes: list[str]) -> dict[str, BlobLocation]:
    """Where each blob lies; BlobMissing names the first that is not in the store."""
    found: dict[str, BlobLocation] = {}
    unique = list(dict.fromkeys(hashes))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        rows = db.execute(select(Blob.sha256, *LOCATION_COLUMNS).where(Blob.sha256.in_(chunk)))
        for sha, *where in rows:
            if (place := location(*where)) is not None:
                found[sha] = place
    missing = [sha for sha in unique if sha not in found]
    if missing:
        raise BlobMissing(
            f"the samples {missing[0][:12]}… ({len(missing)} in all) are not in the store: they "
            "were lost before it was migrated to packs; upload those sessions again"
        )
    return found


def unreferenced(candidates):
    """The condition 'no session and no run references this blob'."""
    return ~exists().where(MotionSession.blob_sha256 == candidates) & ~exists().where(
        RunSession.blob_sha256 == candidates
    )


def release(db: Session, *, store: PackStore, hashes: list[str]) -> None:
    """In the caller's transaction: drop those blobs that nothing references any more, and
    the packs left empty; their files go once the transaction commits."""
    if not hashes:
        return
    packs = delete_unreferenced_blobs(db, Blob.sha256.in_(set(hashes)))
    drop_empty_packs(db, store=store, pack_ids=[p for p in packs if p is not None])


def delete_unreferenced_blobs(db: Session, *where) -> list[str | None]:
    """Delete the blobs (of `where`) that nothing references; their packs' ids.

    The rows are locked first (PostgreSQL; SQLite has one writer at a time anyway): an upload
    that is inserting a session naming one of them holds it (its foreign key check) until it
    commits, and the DELETE's fresh read then sees that session and keeps the blob, instead
    of deleting it from under the new reference (a foreign key violation).
    """
    # References from every project count, whichever project the caller's session is bound to.
    db.execute(
        select(Blob.sha256)
        .where(*where, unreferenced(Blob.sha256))
        .with_for_update()
        .execution_options(**ALL_PROJECTS)
    )
    return list(
        db.scalars(
            delete(Blob)
            .where(*where, unreferenced(Blob.sha256))
            .returning(Blob.pack_id)
            .execution_options(synchronize_session=False, **ALL_PROJECTS)
        )
    )


def drop_empty_packs(
    db: Session,
    *,
    store: PackStore,
    pack_ids: list[str] | None,
    retired_before: datetime | None = None,
) -> list[str]:
    """Delete the packs (all of them: None) that hold no blob; their files go after commit.

    A pack that compaction retired stays until `retired_before` (None: it stays): a reader may
    have looked up one of its blobs' places just before they moved.
    """
    retired_long_enough: ColumnElement[bool] = Pack.retired_at.is_(None)
    if retired_before is not None:
        retired_long_enough = or_(retired_long_enough, Pack.retired_at < retired_before)
    query = delete(Pack).where(~exists().where(Blob.pack_id == Pack.id), retired_long_enough)
    if pack_ids is not None:
        if not pack_ids:
            return []
        query = query.where(Pack.id.in_(pack_ids))
    dropped = list(
        db.scalars(query.returning(Pack.id).execution_options(synchronize_session=False))
    )
    if dropped:
        after_commit(db, lambda: store.delete_packs(dropped))
    return dropped


def referenced_packs(db: Session) -> set[str]:
    used = union(select(MotionSession.blob_sha256), select(RunSession.blob_sha256)).subquery()
    query = select(Blob.pack_id).where(Blob.sha256.in_(select(used.c[0]))).distinct()
    return {
        pack for pack in db.scalars(query.execution_options(**ALL_PROJECTS)) if pack is not None
    }


@dataclass(frozen=True)
class Collected:
    blobs: int
    packs: int
    files: int


def collect_garbage(
    factory: sessionmaker[Session], store: PackStore, *, grace_period_s: float
) -> Collected:
    """Remove unreferenced blobs, empty packs (packs that compaction retired once they have been
    retired for `grace_period_s`), and files of the packs folder that no pack row names once
    they are older than `grace_period_s` (an upload in progress has written its pack but not
    yet committed it)."""
    with unit_of_work(factory) as db:
        blobs = len(delete_unreferenced_blobs(db))
        retired_before = utcnow() - timedelta(seconds=grace_period_s)
        packs = len(drop_empty_packs(db, store=store, pack_ids=None, retired_before=retired_before))
    # Files first, rows second: a pack committed after this read is younger than the files
    # listed before it, so the grace period protects it.
    cutoff = time.time() - grace_period_s
    candidates = [f for f in store.pack_files() if f.modified_at <= cutoff]
    with unit_of_work(factory) as db:
        ids = [f.pack_id for f in candidates if f.pack_id is not None]
        live: set[str] = set()
        for start in range(0, len(ids), 500):
            live.update(db.scalars(select(Pack.id).where(Pack.id.in_(ids[start : start + 500]))))
    orphans = [f for f in candidates if f.pack_id not in live]
    for orphan in orphans:
        store.remove_file(orphan.key)
    if blobs or packs or orphans:
        log.info("store collected blobs=%d packs=%d files=%d", blobs, packs, len(orphans))
    return Collected(blobs, packs, len(orphans))
