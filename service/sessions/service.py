"""Sessions: list, read, delete, summarise (storing uploads: storing.py)."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.blobs import locate, release
from core.models import MotionSession
from core.storage import BlobMissing, PackStore
from service.audit import service as audit
from service.errors import NotFound
from service.sessions.schemas import GroupStats, Stats

IMBALANCE_RATIO = 2.0
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


def get_session(db: Session, *, session_id: str) -> MotionSession:
    row = db.get(MotionSession, session_id)
    if row is None:
        raise NotFound(f"session {session_id!r} does not exist; GET /v1/sessions lists them")
    return row


def read_samples(db: Session, *, store: PackStore, session_id: str) -> pa.Table:
    row = get_session(db, session_id=session_id)
    try:
        return store.read_table(locate(db, [row.blob_sha256])[row.blob_sha256])
    except BlobMissing as exc:
        raise NotFound(f"session {session_id!r}: {exc}") from None


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


def session_stats(db: Session) -> Stats:
    rows = db.execute(
        select(
            MotionSession.id,
            MotionSession.activity,
            MotionSession.subject,
            MotionSession.split,
            MotionSession.row_count,
            MotionSession.duration_s,
            MotionSession.sample_rate_hz,
            MotionSession.features,
        )
    ).all()
    groups: dict[str, dict[str, list]] = {
        "activity": defaultdict(list),
        "subject": defaultdict(list),
        "split": defaultdict(list),
    }
    for row in rows:
        for key in groups:
            groups[key][getattr(row, key) or "(none)"].append(row)
    by = {
        key: {name: _group(members) for name, members in sorted(g.items())}
        for key, g in groups.items()
    }
    warnings = []
    counts = {name: g.sessions for name, g in by["activity"].items()}
    if len(counts) >= 2 and max(counts.values()) > IMBALANCE_RATIO * min(counts.values()):
        most, least = max(counts, key=counts.__getitem__), min(counts, key=counts.__getitem__)
        warnings.append(
            f"classes are imbalanced: {most!r} has {counts[most]} sessions, {least!r} only "
            f"{counts[least]} (more than {IMBALANCE_RATIO:g}x); record more {least!r} sessions"
        )
    warnings += sample_rate_warnings(rows) + feature_warnings(rows)
    total = _group(rows)
    return Stats(
        sessions=total.sessions,
        rows=total.rows,
        seconds=total.seconds,
        by_activity=by["activity"],
        by_subject=by["subject"],
        by_split=by["split"],
        warnings=warnings,
    )


def quoted(items: Iterable[object], limit: int = SHOWN) -> str:
    """'a', 'b', 'c' … (N in all): a list short enough for a message."""
    items = list(items)
    shown = ", ".join(map(repr, items[:limit]))
    return shown + (f" … ({len(items)} in all)" if len(items) > limit else "")


def sample_rate_warnings(sessions: Sequence[Any]) -> list[str]:
    """A warning when sessions of known sample rates do not share one."""
    rates = Counter(s.sample_rate_hz for s in sessions if s.sample_rate_hz is not None)
    if len(rates) < 2:
        return []
    usual = rates.most_common(1)[0][0]
    odd = [s.id for s in sessions if s.sample_rate_hz not in (None, usual)]
    counts = ", ".join(f"{rate:g} Hz: {count}" for rate, count in rates.most_common())
    return [
        f"the sessions have different sample rates ({counts} sessions; e.g. {quoted(odd, 3)} "
        f"differ from {usual:g} Hz): a window of the same number of samples spans different "
        "durations. Resample them to one rate, or select sessions of one rate"
    ]


def feature_warnings(sessions: Sequence) -> list[str]:
    """A warning when stored sessions do not all have the same feature columns."""
    groups = Counter(frozenset(s.features) for s in sessions)
    if len(groups) < 2:
        return []
    return [
        f"the sessions have {len(groups)} different sets of feature columns: a run over "
        'sessions that differ needs "features" (the columns to use)'
    ]


def _group(members: Sequence) -> GroupStats:
    durations = [m.duration_s for m in members]
    known = all(d is not None for d in durations) and durations
    return GroupStats(
        sessions=len(members),
        rows=sum(m.row_count for m in members),
        seconds=round(sum(durations), 6) if known else None,
    )
