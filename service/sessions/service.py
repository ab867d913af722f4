"""Sessions: list, read, delete, summarise (storing uploads: storing.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.blobs import locate, release
from core.channels import Layout, combine
from core.models import MotionSession
from core.projects import project_of
from core.storage import BlobMissing, PackStore
from service.audit import service as audit
from service.errors import NotFound
from service.sessions.parsing import TIMESTAMP

SHOWN = 10  # names or ids quoted in one message
log = logging.getLogger("motionlab")


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


def labels(db: Session) -> dict[str, list[str]]:
    """The activities and subjects of the stored sessions, sorted: what a recorder offers."""
    return {
        key: list(db.scalars(select(column).distinct().where(column.is_not(None)).order_by(column)))
        for key, column in (
            ("activities", MotionSession.activity),
            ("subjects", MotionSession.subject),
        )
    }


def get_session(db: Session, *, session_id: str) -> MotionSession:
    row = db.get(MotionSession, (project_of(db), session_id))
    if row is None:
        raise NotFound(f"session {session_id!r} does not exist; GET /v1/sessions lists them")
    return row


def read_samples(db: Session, *, store: PackStore, session_id: str) -> pa.Table:
    row = get_session(db, session_id=session_id)
    try:
        return store.read_table(locate(db, [row.blob_sha256])[row.blob_sha256])
    except BlobMissing as exc:
        raise NotFound(f"session {session_id!r}: {exc}") from None


def canonical_samples(table: pa.Table, layout: Layout) -> tuple[pa.Table, Layout]:
    """A session's samples as a run reads them: each canonical feature (derived ones too) in
    its canonical unit, after the timestamps when it has them."""
    canonical = layout.canonical()
    columns = [
        pa.array(combine(source, lambda name: table.column(name).to_numpy()))
        for source in layout.sources(list(canonical.by_name)) or []
    ]
    names = list(canonical.by_name)
    if TIMESTAMP in table.column_names:
        columns, names = [table.column(TIMESTAMP), *columns], [TIMESTAMP, *names]
    return pa.table(columns, names=names), canonical


def delete_session(db: Session, *, store: PackStore, session_id: str) -> None:
    """Delete the row; its blob goes in the same transaction unless something references it
    (another session, any run that is not deleted)."""
    row = get_session(db, session_id=session_id)
    db.delete(row)
    audit.record(
        db,
        action=audit.AuditAction.SESSION_DELETE,
        target=f"sessions/{session_id}",
        sha256=row.blob_sha256,
    )
    db.flush()
    release(db, store=store, hashes=[row.blob_sha256])


def quoted(
    items: Iterable[object],
    limit: int = SHOWN,
    *,
    total: int | None = None,
    show: Callable[[object], str] = repr,
) -> str:
    """'a', 'b', 'c' … (N in all): a list short enough for a message (show=str: unquoted)."""
    items = list(items)
    total = len(items) if total is None else total
    shown = ", ".join(map(show, items[:limit]))
    return shown + (f" … ({total} in all)" if total > limit else "")
