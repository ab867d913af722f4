"""The runs table as a queue: claim with one atomic conditional UPDATE, heartbeat, reap."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from service.models import Run, utcnow
from workers.lifecycle import TRANSITIONS

log = logging.getLogger("motionlab.queue")
assert "running" in TRANSITIONS["queued"]  # claim_next_run takes this edge in SQL


def _queued(engines: list[str] | None) -> Select:
    queued = select(Run.id).where(Run.status == "queued")
    return queued.where(Run.engine.in_(engines)) if engines else queued


def queued_run_exists(db: Session, *, engines: list[str] | None = None) -> bool:
    """Whether a run (of the given engines) waits: a read, so that a worker can poll often
    without taking SQLite's write lock each time, and claim only when there is something."""
    return db.execute(_queued(engines).limit(1)).first() is not None


def claim_next_run(db: Session, *, worker_id: str, engines: list[str] | None = None) -> str | None:
    """Take the oldest queued run (of the given engines) for `worker_id`; its id, or None.

    One UPDATE … WHERE status = 'queued' … RETURNING: two workers can never both win.
    The caller commits at once; no transaction is held while the run executes.
    """
    oldest = _queued(engines).order_by(Run.created_at, Run.id).limit(1).scalar_subquery()
    now = utcnow()
    claimed = db.execute(
        update(Run)
        .where(Run.id == oldest, Run.status == "queued")
        .values(
            status="running",
            claimed_by=worker_id,
            heartbeat_at=now,
            attempts=Run.attempts + 1,
            started_at=now,
            exit_code=None,
        )
        .returning(Run.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return claimed


@dataclass(frozen=True)
class Heartbeat:
    still_ours: bool
    cancel_requested: bool


def heartbeat(db: Session, *, run_id: str, worker_id: str) -> Heartbeat:
    """Refresh the run's heartbeat if this worker still owns it; report cancel requests."""
    row = db.execute(
        update(Run)
        .where(Run.id == run_id, Run.claimed_by == worker_id, Run.status == "running")
        .values(heartbeat_at=utcnow())
        .returning(Run.cancel_requested)
        .execution_options(synchronize_session=False)
    ).first()
    return Heartbeat(still_ours=row is not None, cancel_requested=bool(row and row[0]))


def reap_stale_runs(db: Session, *, timeout_s: float, max_attempts: int) -> list[str]:
    """Runs whose worker stopped heart-beating: re-queued, or failed after `max_attempts`.

    Each change is a conditional UPDATE (still running, still stale), so two reapers, or a
    reaper and a worker that just claimed the run again, cannot both act on it.
    """
    assert {"queued", "failed"} <= TRANSITIONS["running"]
    cutoff = utcnow() - timedelta(seconds=timeout_s)
    stale = db.execute(
        select(Run.id, Run.claimed_by, Run.attempts).where(
            Run.status == "running", Run.heartbeat_at < cutoff
        )
    ).all()
    reaped = []
    for run_id, owner, attempts in stale:
        exhausted = attempts >= max_attempts
        values = (
            {
                "status": "failed",
                "finished_at": utcnow(),
                "error_message": (
                    f"worker {owner} stopped responding (no heartbeat for {timeout_s:g}s) and "
                    f"the run has used all {max_attempts} attempts"
                ),
            }
            if exhausted
            else {"status": "queued", "claimed_by": None}
        )
        changed = db.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == "running", Run.heartbeat_at < cutoff)
            .values(heartbeat_at=None, **values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed:
            reaped.append(run_id)
            log.warning(
                "reaped stale run run_id=%s worker=%s status=%s", run_id, owner, values["status"]
            )
    return reaped
