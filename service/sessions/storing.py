"""Storing uploads: all or nothing, idempotent, and safe under retry storms and concurrent
deletes. One pack file per upload; the database decides which blob is whose."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.blobs import add_pack, known_blobs, release
from core.channels import layout_of
from core.db import rows_changed, unit_of_work
from core.models import MotionSession
from core.projects import project_of
from core.storage import PackStore, WrittenPack
from service.audit import service as audit
from service.errors import Conflict, InvalidInput
from service.projects.limits import QuotaExceeded, check_stored_bytes
from service.sessions.decoding import parse_parts
from service.sessions.parsing import ParsedSession, UploadOptions
from service.sessions.schemas import SessionStored

# A lost race means another request's write won, so every retry follows progress; but of N
# requests replacing one session at once the last may lose N - 1 times. Enough attempts for
# the concurrency a server sees on one session (a phone's retries, a bulk re-upload), each
# after a short random pause that spreads the contenders out.
STORE_ATTEMPTS = 16
RETRY_PAUSE_S = 0.005  # × the attempt, at most: random, so that the losers do not meet again
RETURN_MEMORY_AFTER_BYTES = 8 << 20  # an upload this large gives its memory back after it
UPLOAD_THREADS = 40  # anyio's thread limit, under which uploads run (router.py: run_in_threadpool)
log = logging.getLogger("motionlab")


@functools.cache
def pack_writers() -> ThreadPoolExecutor:
    """The threads that write new uploads' packs while their requests hash the samples: one
    pool for the process's life (a pool per upload started and joined a thread each time, issue
    #31). As many as uploads can run at once: a writer shared by fewer would hold uploads'
    transactions open longer and make more of their races fail. A thread starts only when none
    is idle, so a quiet process keeps a few."""
    return ThreadPoolExecutor(UPLOAD_THREADS, thread_name_prefix="motionlab-pack-writer")


class StoreRace(Conflict):
    """Another request changed these sessions or blobs between our reads and our writes."""


def ingest(
    factory: Callable[[], Session],
    *,
    store: PackStore,
    parts: list,
    options: UploadOptions,
    replace: bool,
    max_stored_bytes: int | None = None,
) -> list[SessionStored]:
    """Parse, store and commit one upload, in one worker thread: the unit of work is owned
    here (as the request dependency owns other routes'), so that a lost race is retried on
    fresh reads: a retried identical upload then answers as the no-op it is."""
    size = sum(len(data) for data, _, _ in parts)
    parsed: list = []
    try:
        parsed = parse_parts(parts, options)  # empties `parts`
        for attempt in range(1, STORE_ATTEMPTS + 1):
            try:
                with unit_of_work(factory) as db:
                    return store_sessions(
                        db,
                        store=store,
                        parsed=parsed,
                        replace=replace,
                        max_bytes=max_stored_bytes,
                    )
            except StoreRace:
                if attempt == STORE_ATTEMPTS:
                    raise
                log.info("upload raced another request; storing again attempt=%d", attempt + 1)
                time.sleep(random.uniform(0, RETRY_PAUSE_S * attempt))
        raise AssertionError("unreachable")  # pragma: no cover
    finally:
        if size >= RETURN_MEMORY_AFTER_BYTES:
            del parsed
            return_freed_memory()


def return_freed_memory() -> None:
    """Give the pages a large upload freed back to the system: Arrow's allocator and glibc's
    keep them for reuse, and one 34 MB bulk upload left the API process 108 MiB (PSS) larger
    for good (bench_memory). A few milliseconds: only after large uploads."""
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _same_content(row: MotionSession, parsed: ParsedSession, *, replace: bool) -> bool:
    """The stored session is this one: samples and labels, and the channels when the request
    declares them or replaces. Channels inferred from names (or stated by the file) that differ
    from the stored ones do not make a re-sent file new: the answer says so (`_stored`)."""
    return (
        row.activity == parsed.activity
        and row.subject == parsed.subject
        and row.split == parsed.split
        and row.sample_rate_hz == parsed.sample_rate_hz
        and (not (parsed.declared or replace) or row.channels == parsed.channels.stored())
        and (
            row.blob_sha256 == parsed.sha256
            or (parsed.stored_before is not None and row.blob_sha256 == parsed.stored_before())
        )
    )


def _columns(parsed: ParsedSession) -> dict:
    """The row's values for a parsed session, defined once for inserts and replacements."""
    return {
        "activity": parsed.activity,
        "subject": parsed.subject,
        "split": parsed.split,
        "sample_rate_hz": parsed.sample_rate_hz,
        "features": parsed.features,
        "channels": parsed.channels.stored(),
        "channel_levels": parsed.levels,
        "warnings": parsed.warnings or None,
        "has_timestamp": parsed.has_timestamps,
        "row_count": parsed.rows,
        "duration_s": parsed.duration_s,
        "blob_sha256": parsed.sha256,
        "source": parsed.source,
    }


def _unique(parsed: list[ParsedSession]) -> dict[str, ParsedSession]:
    seen: dict[str, ParsedSession] = {}
    for session in parsed:
        if session.id in seen:
            raise InvalidInput(
                f"session {session.id!r} appears twice in this upload; give each session its own id"
            )
        seen[session.id] = session
    return seen


def store_sessions(
    db: Session,
    *,
    store: PackStore,
    parsed: list[ParsedSession],
    replace: bool,
    max_bytes: int | None = None,
) -> list[SessionStored]:
    """Add the sessions to the unit of work, their new samples written as one pack first;
    `max_bytes`: the project's limit of stored samples (over it, nothing is stored).

    Raises before writing anything when the request cannot be stored whole, and StoreRace when
    a concurrent request got in between (the caller retries on fresh reads).
    """
    seen = _unique(parsed)
    rows = select(MotionSession).where(MotionSession.id.in_(list(seen)))
    if replace:
        # PostgreSQL: concurrent replacements of a session wait for each other here and read
        # the winner's row, instead of all racing to the guarded UPDATE and retrying (SQLite's
        # one writer already serialises them; it has no FOR UPDATE). In id order: no deadlock.
        rows = rows.order_by(MotionSession.id).with_for_update()
    existing = {row.id: row for row in db.scalars(rows)}
    conflicts = [
        s.id
        for s in parsed
        if s.id in existing and not _same_content(existing[s.id], s, replace=replace)
    ]
    if conflicts and not replace:
        raise Conflict(
            f"session(s) {', '.join(map(repr, conflicts[:5]))} already exist with different "
            "content; nothing was stored. Use new ids, or ?replace=true to overwrite them"
        )
    to_store = [s for s in parsed if s.id not in existing or s.id in conflicts]
    pack = _write_new_samples(db, store, to_store, speculative=not existing)
    replaced = {sid: existing[sid].blob_sha256 for sid in conflicts}
    try:
        if pack is not None and not add_pack(db, pack):
            store.delete_pack(pack.pack_id)  # every blob in it was recorded by another upload
            pack = None
        _write_rows(db, seen, existing, replaced)
        check_stored_bytes(db, max_bytes)
    except QuotaExceeded:
        if pack is not None:  # named by this transaction's rows alone, as below
            store.delete_pack(pack.pack_id)
        raise
    except (IntegrityError, StoreRace):
        # The pack's name is new and only this transaction's rows (rolled back now) named
        # it: no one else can reference it, so it goes at once rather than after the grace.
        if pack is not None:
            store.delete_pack(pack.pack_id)
        raise StoreRace(
            f"other requests kept changing session(s) {', '.join(map(repr, list(seen)[:5]))} "
            "while this upload was being stored; nothing was stored from this one. Send it "
            "again: identical content is then a no-op, different content a 409 (or "
            "?replace=true)"
        ) from None
    for session_id, previous in replaced.items():
        audit.record(
            db,
            action=audit.AuditAction.SESSION_REPLACE,
            target=f"sessions/{session_id}",
            previous_sha256=previous,
            sha256=seen[session_id].sha256,
        )
    release(db, store=store, hashes=list(replaced.values()))
    return [
        _stored(s, existing[s.id])
        if s.id in existing and s.id not in replaced
        else _new(s, replaced=s.id in replaced)
        for s in parsed
    ]


def _new(parsed: ParsedSession, *, replaced: bool = False) -> SessionStored:
    return SessionStored(
        id=parsed.id,
        rows=parsed.rows,
        features=parsed.features,
        channels={c.column: c.declaration for c in parsed.channels.channels},
        sha256=parsed.sha256,
        created=not replaced,
        replaced=replaced,
        warnings=parsed.warnings,
    )


def _stored(parsed: ParsedSession, row: MotionSession) -> SessionStored:
    """A re-sent session, stored already: what is stored, and where this upload's reading of
    its channels differs."""
    layout = layout_of(row.channels)
    warnings = list(row.warnings or [])
    stored = {channel.column: channel for channel in layout.channels}
    differ = [
        f"{new.column}: stored {stored[new.column].declaration}, this upload {new.declaration}"
        for new in parsed.channels.channels
        if new.column in stored and stored[new.column] != new
    ]
    if differ:
        warnings.append(
            "this upload reads the channels otherwise than the stored copy ("
            + "; ".join(differ[:6])
            + "): nothing was changed; send it with ?replace=true (and channels= to declare "
            "them) to store this reading"
        )
    return SessionStored(
        id=row.id,
        rows=row.row_count,
        features=list(row.features),
        channels={c.column: c.declaration for c in layout.channels},
        sha256=row.blob_sha256,
        created=False,
        replaced=False,
        warnings=warnings,
    )


def _write_new_samples(
    db: Session, store: PackStore, sessions: list[ParsedSession], *, speculative: bool
) -> WrittenPack | None:
    """One pack of the samples not stored yet; None when all are.

    speculative (none of the ids is stored: a new upload): the pack is written while the
    samples are hashed (both release the GIL), and only then are the hashes looked up; a
    session whose samples were stored already leaves a dead batch in the pack. Otherwise the
    hashes are looked up first (a retried upload writes nothing).
    """
    if speculative and sessions:
        writing = pack_writers().submit(store.write_tables, [s.samples for s in sessions])
        hashes = [s.sha256 for s in sessions]
        written = writing.result()
        known = known_blobs(db, list(set(hashes)))
        places = {
            sha: place
            for sha, place in zip(hashes, written.places, strict=True)
            if sha not in known
        }
        if not places:
            store.delete_pack(written.pack_id)
            return None
        return WrittenPack(written.pack_id, written.size_bytes, places)
    known = known_blobs(db, list({s.sha256 for s in sessions}))
    fresh = {s.sha256: s.samples for s in sessions if s.sha256 not in known}
    return store.write_pack(fresh) if fresh else None


def _write_rows(
    db: Session,
    seen: dict[str, ParsedSession],
    existing: dict[str, MotionSession],
    replaced: dict[str, str],
) -> None:
    """Replace (each guarded by the blob it had when read) and insert the session rows."""
    for session_id, previous in replaced.items():
        statement = (
            update(MotionSession)
            .where(MotionSession.id == session_id, MotionSession.blob_sha256 == previous)
            .values(**_columns(seen[session_id]))
            .execution_options(synchronize_session=False)
        )
        if rows_changed(db, statement) != 1:
            raise StoreRace("replaced meanwhile")
    new_rows = [
        {"project": project_of(db), "id": sid, **_columns(s)}
        for sid, s in seen.items()
        if sid not in existing
    ]
    if new_rows:
        db.execute(insert(MotionSession), new_rows)  # one executemany, no ORM objects
    db.flush()
