"""GET /v1/audit: the audit log (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.audit import service
from service.audit.schemas import AuditEventRead, AuditPage
from service.audit.service import AuditAction
from service.deps import NO_NUL, PageLimit, PageOffset, SessionDep

router = APIRouter(tags=["tokens"])


@router.get("/audit", response_model=AuditPage)
def list_audit_events(
    db: SessionDep,
    target: Annotated[
        str | None, Query(pattern=NO_NUL, description="e.g. models/GestureClassifier")
    ] = None,
    action: Annotated[
        list[AuditAction] | None, Query(description="e.g. alias.set (repeatable)")
    ] = None,
    limit: PageLimit = 100,
    offset: PageOffset = 0,
) -> AuditPage:
    """Who changed what and when, newest first: registry changes, deletes, tokens."""
    events, total = service.list_events(
        db, target=target, actions=action, limit=limit, offset=offset
    )
    items = [AuditEventRead.model_validate(event) for event in events]
    return AuditPage(items=items, total=total, limit=limit, offset=offset)
