"""The audit log: one row per change, written in the unit of work of the change itself (a
change that rolls back leaves no event), as the principal the request runs as."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import AuditEvent
from service.auth import CURRENT_PRINCIPAL


class AuditAction(StrEnum):
    """Every kind of change the audit log records."""

    SESSION_REPLACE = "session.replace"
    SESSION_DELETE = "session.delete"
    RUN_DELETE = "run.delete"
    VERSION_REGISTER = "version.register"
    ALIAS_SET = "alias.set"
    ALIAS_DELETE = "alias.delete"
    TOKEN_CREATE = "token.create"
    TOKEN_REVOKE = "token.revoke"
    PROJECT_CREATE = "project.create"
    PROJECT_DELETE = "project.delete"


def actor() -> str:
    """The name of who is acting: a token's name, `local` (no tokens exist) or `cli`."""
    return CURRENT_PRINCIPAL.get().name


def record(db: Session, *, action: AuditAction, target: str, **details: Any) -> AuditEvent:
    principal = CURRENT_PRINCIPAL.get()
    event = AuditEvent(
        actor=principal.name,
        token_id=principal.token_id,
        action=action,
        target=target,
        details=details or None,
    )
    db.add(event)
    return event


def list_events(
    db: Session,
    *,
    target: str | None = None,
    actions: list[AuditAction] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[AuditEvent], int]:
    """Events, newest first, optionally of one target and some actions; and their total."""
    query = select(AuditEvent)
    if target is not None:
        query = query.where(AuditEvent.target == target)
    if actions:
        query = query.where(AuditEvent.action.in_(actions))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = db.scalars(query.order_by(AuditEvent.id.desc()).limit(limit).offset(offset))
    return list(page), total
