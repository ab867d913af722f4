"""Sessions: store uploads atomically and idempotently, list, read, delete, summarise."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import pyarrow as pa
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import after_commit, after_rollback
from core.models import MotionSession, Run, RunSession
from core.runs import FINISHED
from core.storage import BlobStore
from service.audit import service as audit
from service.errors import Conflict, InvalidInput, NotFound
from service.sessions.parsing import ParsedSession
from service.sessions.schemas import SessionStored

SHOWN = 10  # names or ids quoted in one message
log = logging.getLogger("motionlab")


def _same_content(row: MotionSession, parsed: ParsedSession) -> bool:
    return (
        row.blob_sha256 == parsed.sha256
        and row.activity == parsed.activity
        and row.subject == parsed.subject
        and row.split == parsed.split
        and row.sample_rate_hz == parsed.sample_rate_hz
    )


def _columns(parsed: ParsedSession) -> dict:
    """The row's values for a parsed session, defined once for inserts and replacements."""
    return {
        "activity": parsed.activity,
        "subject": parsed.subject,
        "split": parsed.split,
        "sample_rate_hz": parsed.sample_rate_hz,
        "features": parsed.features,
        "has_timestamp": parsed.has_timestamps,
        "row_count": parsed.rows,
        "duration_s": parsed.duration_s,
        "blob_sha256": parsed.sha256,
        "source": parsed.source,
    }


def store_sessions(
    db: Session, *, store: BlobStore, parsed: list[ParsedSession], replace: bool
) -> list[SessionStored]:
    """Add the sessions to the unit of work, their blobs written before the commit.

    All or nothing: raises before writing anything when the request cannot be stored whole;
    blobs written here are removed again if the transaction rolls back, and blobs that a
    replacement leaves unreferenced are removed once it commits.
    """
    seen: dict[str, ParsedSession] = {}
    for session in parsed:
        if session.id in seen:
            raise InvalidInput(
                f"session {session.id!r} appears twice in this upload; give each session its own id"
            )
        seen[session.id] = session
    existing = {
        row.id: row
        for row in db.scalars(select(MotionSession).where(MotionSession.id.in_(list(seen))))
    }
    conflicts = [s.id for s in parsed if s.id in existing and not _same_content(existing[s.id], s)]
    if conflicts and not replace:
        raise Conflict(
            f"session(s) {', '.join(map(repr, conflicts[:5]))} already exist with different "
            "content; nothing was stored. Use new ids, or ?replace=true to overwrite them"
        )
    to_write = [s for s in parsed if s.id not in existing or s.id in conflicts]
    # Serially: measured faster than a thread pool here (Python-bound encoding, small files).
    written = store.put_tables({s.sha256: s.samples for s in to_write})
    after_rollback(db, lambda: delete_unreferenced(db, store=store, hashes=written))
    replaced_blobs = [existing[i].blob_sha256 for i in conflicts]
    for session_id in conflicts:
        for key, value in _columns(seen[session_id]).items():
            setattr(existing[session_id], key, value)
    new_rows = [{"id": s.id, **_columns(s)} for s in parsed if s.id not in existing]
    try:
        if new_rows:
            db.execute(insert(MotionSession), new_rows)  # one executemany, no ORM objects
        db.flush()
    except IntegrityError:
        # Another upload stored one of these ids between our look-up and our insert.
        raise Conflict(
            f"another request stored session(s) {', '.join(map(repr, list(seen)[:5]))} while "
            "this upload was being stored; nothing was stored from this one. Send it again: "
            "identical content is then a no-op, different content a 409 (or ?replace=true)"
        ) from None
    for session_id, previous in zip(conflicts, replaced_blobs, strict=True):
        audit.record(
            db,
            action=audit.AuditAction.SESSION_REPLACE,
            target=f"sessions/{session_id}",
            previous_sha256=previous,
            sha256=seen[session_id].sha256,
        )
    forget_blobs(db, store=store, hashes=replaced_blobs)
    return [
        SessionStored(
            id=s.id,
            rows=s.rows,
            features=s.features,
            sha256=s.sha256,
            created=s.id not in existing,
            replaced=s.id in conflicts,
        )
        for s in parsed
    ]


def forget_blobs(db: Session, *, store: BlobStore, hashes: list[str]) -> None:
    """Remove, once the transaction commits, those blobs that nothing references any more."""
    orphans = [sha for sha in set(hashes) if not blob_is_referenced(db, sha)]
    if orphans:
        after_commit(db, lambda: store.delete_all(orphans))


def delete_unreferenced(db: Session, *, store: BlobStore, hashes: list[str]) -> None:
    """After a rollback: delete the blobs it wrote unless a concurrent commit references them
    (two uploads of the same samples write the same content-addressed blob)."""
    if not hashes:
        return
    try:
        with Session(db.get_bind()) as fresh:
            orphans = [sha for sha in hashes if not blob_is_referenced(fresh, sha)]
    except Exception:  # the database is unreachable: a stray blob beats a lost one
        log.warning("blobs kept after a rollback count=%d", len(hashes), exc_info=True)
        return
    store.delete_all(orphans)


def blob_is_referenced(db: Session, sha256: str) -> bool:
    by_session = db.scalar(select(func.count()).where(MotionSession.blob_sha256 == sha256))
    by_live_run = db.scalar(
        select(func.count())
        .select_from(RunSession)
        .join(Run, Run.id == RunSession.run_id)
        .where(RunSession.blob_sha256 == sha256, Run.status.not_in(FINISHED))
    )
    return bool(by_session or by_live_run)


def list_sessions(
    db: Session,
    *,
    activity: str | None,
    subject: str | None,
    split: str | None,
    limit: int,
    offset: int,
) -> tuple[list[MotionSession], int]:
    query = select(MotionSession)
    for column, value in (
        (MotionSession.activity, activity),
        (MotionSession.subject, subject),
        (MotionSession.split, split),
    ):
        if value is not None:
            query = query.where(column == value)
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    page = db.scalars(query.order_by(MotionSession.id).limit(limit).offset(offset)).all()
    return list(page), int(total or 0)


def get_session(db: Session, *, session_id: str) -> MotionSession:
    row = db.get(MotionSession, session_id)
    if row is None:
        raise NotFound(f"session {session_id!r} does not exist; GET /v1/sessions lists them")
    return row


def read_samples(db: Session, *, store: BlobStore, session_id: str) -> pa.Table:
    return store.read_table(get_session(db, session_id=session_id).blob_sha256)


def delete_session(db: Session, *, store: BlobStore, session_id: str) -> None:
    """Delete the row; its blob goes after the commit unless something still references it."""
    row = get_session(db, session_id=session_id)
    db.delete(row)
    audit.record(
        db,
        action=audit.AuditAction.SESSION_DELETE,
        target=f"sessions/{session_id}",
        sha256=row.blob_sha256,
    )
    db.flush()
    forget_blobs(db, store=store, hashes=[row.blob_sha256])


def quoted(items: Iterable[object], limit: int = SHOWN, *, total: int | None = None) -> str:
    """'a', 'b', 'c' … (N in all): a list short enough for a message."""
    items = list(items)
    total = len(items) if total is None else total
    shown = ", ".join(map(repr, items[:limit]))
    return shown + (f" … ({total} in all)" if total > limit else "")
