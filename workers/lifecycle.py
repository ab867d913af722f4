"""The run state machine: queued → running → succeeded | failed | canceled, in one place."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.models import Run, utcnow

TRANSITIONS: dict[str, set[str]] = {
    "queued": {"running", "canceled", "failed"},
    "running": {"succeeded", "failed", "canceled", "queued"},  # queued: handed back / reclaimed
    "succeeded": set(),
    "failed": set(),
    "canceled": set(),
}
FINISHED = frozenset({"succeeded", "failed", "canceled"})


class IllegalTransition(RuntimeError):
    pass


def transition(db: Session, run: Run, to: str, **fields) -> Run:
    """Move `run` to status `to`, setting timestamps and any given columns."""
    if to not in TRANSITIONS[run.status]:
        raise IllegalTransition(f"run {run.id}: {run.status} → {to} is not allowed")
    run.status = to
    now = utcnow()
    if to == "running":
        run.started_at = run.started_at or now
    elif to == "queued":
        run.claimed_by = None
        run.heartbeat_at = None
    else:
        run.finished_at = now
        run.heartbeat_at = None
    for name, value in fields.items():
        setattr(run, name, value)
    db.flush()
    return run
