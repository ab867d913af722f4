"""The run state machine: every status change of a run is one guarded UPDATE built here.

    queued ──claim──▶ running ──finish──▶ succeeded | failed | canceled
       │                 │ ──hand back / reap / reclaim──▶ queued
       └──cancel / reap──┴──────────────────────────────▶ canceled | failed

(reap: the heartbeat went stale; reclaim: the worker's supervisor saw its process exit.)

Each change is `UPDATE runs SET status = <to> … WHERE id = … AND status = <from> [AND …]`:
the database decides who wins when a worker, a reaper and a cancel request race, and a change
that lost the race changes nothing (the caller sees False / None). The edge is checked against
TRANSITIONS before the statement is built (an exception, not an `assert`: it holds under -O).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, exists, select, update
from sqlalchemy.orm import Session

from core.db import rows_changed
from core.models import Run, RunStatus, utcnow

log = logging.getLogger("motionlab.runs")

TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: frozenset({RunStatus.RUNNING, RunStatus.CANCELED, RunStatus.FAILED}),
    # back to queued: handed back by a stopping worker, or reclaimed from a dead one
    RunStatus.RUNNING: frozenset(
        {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELED, RunStatus.QUEUED}
    ),
    RunStatus.SUCCEEDED: frozenset(),
    RunStatus.FAILED: frozenset(),
    RunStatus.CANCELED: frozenset(),
}
FINISHED = frozenset(status for status, edges in TRANSITIONS.items() if not edges)


class IllegalTransition(RuntimeError):
    pass


def _move(
    db: Session,
    *,
    source: RunStatus,
    to: RunStatus,
    where: Sequence[ColumnElement[bool]],
    values: dict[str, Any] | None = None,
):
    """UPDATE runs SET status = to, <timestamps>, <values> WHERE status = source AND <where>."""
    if to not in TRANSITIONS[source]:
        raise IllegalTransition(f"a run cannot go from {source} to {to}")
    now = utcnow()
    stamps: dict[str, Any]
    if to == RunStatus.RUNNING:
        stamps = {"heartbeat_at": now, "started_at": now}
    elif to == RunStatus.QUEUED:
        stamps = {"heartbeat_at": None, "claimed_by": None}
    else:
        stamps = {"heartbeat_at": None, "finished_at": now}
    stamps["live_progress"] = None  # an attempt's epoch in progress ends with it
    return (
        update(Run)
        .where(Run.status == source, *where)
        .values(status=to, **stamps, **(values or {}))
        .execution_options(synchronize_session=False)
    )


def claim_next_run(db: Session, *, worker_id: str, engines: list[str] | None = None) -> str | None:
    """Take the oldest queued run (of the given engines) for `worker_id`; its id, or None.

    A read first, so an idle worker polling an empty queue never takes SQLite's write lock;
    then one UPDATE … WHERE status = 'queued' … RETURNING: two workers can never both win.
    On PostgreSQL the oldest run is picked `FOR UPDATE SKIP LOCKED`: concurrent claimers each
    take a different run instead of queueing behind one row lock and losing (SQLite has one
    writer at a time: nothing to skip). The caller commits at once; no transaction is held
    while the run executes.
    """
    queued = select(Run.id).where(Run.status == RunStatus.QUEUED)
    if engines:
        queued = queued.where(Run.engine.in_(engines))
    if not db.scalar(select(exists(queued))):
        return None
    oldest_query = queued.order_by(Run.created_at, Run.id).limit(1)
    if db.get_bind().dialect.name == "postgresql":
        oldest_query = oldest_query.with_for_update(skip_locked=True)
    oldest = oldest_query.scalar_subquery()
    statement = _move(
        db,
        source=RunStatus.QUEUED,
        to=RunStatus.RUNNING,
        where=[Run.id == oldest],
        values={"claimed_by": worker_id, "attempts": Run.attempts + 1, "exit_code": None},
    )
    return db.execute(statement.returning(Run.id)).scalar_one_or_none()


@dataclass(frozen=True)
class Heartbeat:
    still_ours: bool
    cancel_requested: bool


def heartbeat(db: Session, *, run_id: str, worker_id: str) -> Heartbeat:
    """Refresh the run's heartbeat if this worker still owns it; report cancel requests."""
    row = db.execute(
        update(Run)
        .where(Run.id == run_id, Run.claimed_by == worker_id, Run.status == RunStatus.RUNNING)
        .values(heartbeat_at=utcnow())
        .returning(Run.cancel_requested)
        .execution_options(synchronize_session=False)
    ).first()
    return Heartbeat(still_ours=row is not None, cancel_requested=bool(row and row[0]))


def record_live_progress(db: Session, *, run_id: str, progress: dict[str, Any]) -> bool:
    """The training process's report of the epoch in progress, kept while the run is running
    (never on a run that has ended or been handed back meanwhile). Not a status change."""
    statement = (
        update(Run)
        .where(Run.id == run_id, Run.status == RunStatus.RUNNING)
        .values(live_progress=progress)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(db, statement) == 1


def finish_run(
    db: Session, *, run_id: str, worker_id: str, status: RunStatus, **values: Any
) -> bool:
    """Record the end of a run this worker executed (or hand it back: status QUEUED).

    False when the run is no longer this worker's (reaped, reclaimed): nothing is written.
    """
    statement = _move(
        db,
        source=RunStatus.RUNNING,
        to=status,
        where=[Run.id == run_id, Run.claimed_by == worker_id],
        values=values,
    )
    return rows_changed(db, statement) == 1


def hand_back_run(db: Session, *, run_id: str, worker_id: str) -> bool:
    """A stopping worker returns its run to the queue; the interrupted attempt is not counted."""
    return finish_run(
        db, run_id=run_id, worker_id=worker_id, status=RunStatus.QUEUED, attempts=Run.attempts - 1
    )


def reap_stale_runs(db: Session, *, timeout_s: float, max_attempts: int) -> list[str]:
    """Runs whose worker stopped heart-beating: re-queued, or failed after `max_attempts`.

    Each change is guarded (still running, still stale), so two reapers, or a reaper and a
    worker that just claimed the run again, cannot both act on it.
    """
    cutoff = utcnow() - timedelta(seconds=timeout_s)
    why = f"stopped responding (no heartbeat for {timeout_s:g}s)"
    return _reclaim(db, Run.heartbeat_at < cutoff, max_attempts=max_attempts, why=why)


def reclaim_runs_of_dead_worker(
    db: Session, *, worker_prefix: str, max_attempts: int, why: str
) -> list[str]:
    """Runs of a worker known to be dead (its supervisor saw it exit), at once: re-queued, or
    failed after `max_attempts`, without waiting for their heartbeat to go stale.

    `worker_prefix` is the start of the dead worker's id (`host:pid:`): the supervisor knows
    the process, not the id the worker gave itself.
    """
    owned = Run.claimed_by.startswith(worker_prefix, autoescape=True)
    return _reclaim(db, owned, max_attempts=max_attempts, why=why)


def _reclaim(
    db: Session, selection: ColumnElement[bool], *, max_attempts: int, why: str
) -> list[str]:
    """The running runs `selection` picks, each re-queued or, out of attempts, failed.

    Each UPDATE is guarded by `selection` and the owner read here: a run that another worker
    claimed in the meantime is left alone.
    """
    found = db.execute(
        select(Run.id, Run.claimed_by, Run.attempts).where(
            Run.status == RunStatus.RUNNING, selection
        )
    ).all()
    reclaimed = []
    for run_id, owner, attempts in found:
        where = [Run.id == run_id, Run.claimed_by == owner, selection]
        if attempts >= max_attempts:
            message = f"worker {owner} {why} and the run has used all {max_attempts} attempts"
            to = RunStatus.FAILED
            statement = _move(
                db, source=RunStatus.RUNNING, to=to, where=where, values={"error_message": message}
            )
        else:
            to = RunStatus.QUEUED
            statement = _move(db, source=RunStatus.RUNNING, to=to, where=where)
        if rows_changed(db, statement):
            reclaimed.append(run_id)
            log.warning(
                "reclaimed run run_id=%s worker=%s why=%r status=%s", run_id, owner, why, to
            )
    return reclaimed


def cancel_run(db: Session, *, run_id: str) -> bool:
    """Cancel a queued run at once (True), or ask the worker to stop a running one (False).

    Conditional both ways: a worker may claim the run between the caller's read and this.
    """
    statement = _move(
        db,
        source=RunStatus.QUEUED,
        to=RunStatus.CANCELED,
        where=[Run.id == run_id],
        values={"error_message": "canceled before it started"},
    )
    if rows_changed(db, statement):
        return True
    # Running: the worker watching it stops the child within a heartbeat or two.
    db.execute(
        update(Run)
        .where(Run.id == run_id, Run.status == RunStatus.RUNNING)
        .values(cancel_requested=True)
        .execution_options(synchronize_session=False)
    )
    return False
