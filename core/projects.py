"""Projects: the namespace every ORM statement of a request's database session stays in.

A request's session is bound to one project (`bind`, by the service's per-request dependency);
every ORM SELECT, UPDATE and DELETE it runs then sees only that project's sessions, runs,
sweeps, models, aliases and audit events (SQLAlchemy's loader criteria, added to the statement
here once rather than by each query), and every row it adds belongs to that project. A session
bound to no project (workers, the CLI, the store's collector) sees every project: a worker
trains any project's queued run, and the collector keeps a blob any project references.

Statements that must see every project inside a bound session (whether some project still
references a blob) carry the execution option ALL_PROJECTS.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from core.models import (
    DEFAULT_PROJECT,
    AuditEvent,
    ModelAlias,
    ModelVersion,
    MotionSession,
    RegisteredModel,
    Run,
    Sweep,
)

OWNED = (MotionSession, Run, Sweep, RegisteredModel, ModelVersion, ModelAlias, AuditEvent)
ALL_PROJECTS: dict[str, Any] = {"all_projects": True}
_KEY = "project"


def bind(db: Session, project: str) -> Session:
    """Keep every later statement of `db` inside `project`."""
    db.info[_KEY] = project
    return db


def project_of(db: Session) -> str:
    """The project `db` is bound to (the default one when unbound: workers, the CLI)."""
    return db.info.get(_KEY, DEFAULT_PROJECT)


@event.listens_for(Session, "do_orm_execute")
def _stay_in_project(state: ORMExecuteState) -> None:
    project = state.session.info.get(_KEY)
    if project is None or state.is_insert or state.execution_options.get("all_projects"):
        return
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(
            *(
                with_loader_criteria(owned, owned.project == project, include_aliases=True)
                for owned in OWNED
            )
        )


@event.listens_for(Session, "before_flush")
def _add_to_project(db: Session, _context: Any, _instances: Any) -> None:
    project = db.info.get(_KEY)
    if project is None:
        return
    for row in db.new:
        if isinstance(row, OWNED) and row.project is None:
            row.project = project
