"""Create, list and revoke API tokens. Only a token's sha256 is stored; the token is returned
once, by create. Revocation is immediate (every request reads its token's row)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import ApiToken, Project, utcnow
from service.audit.service import AuditAction, actor, record
from service.auth import hash_token, new_token
from service.errors import InvalidInput, NotFound
from service.scopes import Scope


def create_token(
    db: Session,
    *,
    name: str,
    scopes: frozenset[Scope],
    expires_in_minutes: int | None = None,
    projects: list[str] | None = None,
) -> tuple[ApiToken, str]:
    """The new token's row, and the token itself (shown once, never stored); `projects`: the
    projects it may use (422 for one that does not exist), None: every project."""
    if projects is not None:
        known = set(db.scalars(select(Project.name).where(Project.name.in_(projects))))
        unknown = sorted(set(projects) - known)
        if unknown:
            raise InvalidInput(
                f"unknown project(s) {', '.join(unknown)}: GET /v1/projects lists them"
            )
        projects = sorted(set(projects))
    token_id, token = new_token()
    now = utcnow()
    row = ApiToken(
        id=token_id,
        name=name,
        scopes=sorted(scopes),
        token_sha256=hash_token(token),
        projects=projects,
        created_at=now,
        created_by=actor(),
        expires_at=None
        if expires_in_minutes is None
        else now + timedelta(minutes=expires_in_minutes),
    )
    db.add(row)
    record(
        db,
        action=AuditAction.TOKEN_CREATE,
        target=f"tokens/{token_id}",
        name=name,
        scopes=row.scopes,
        projects=projects,
        expires_at=None if row.expires_at is None else row.expires_at.isoformat(),
    )
    db.flush()
    return row, token


def list_tokens(db: Session, *, include_revoked: bool = False) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return list(db.scalars(query))


def revoke_token(db: Session, *, token_id: str) -> ApiToken:
    """Revoke by id (or by name, when one live token has it); revoking twice changes nothing."""
    row = db.get(ApiToken, token_id) or _by_name(db, token_id)
    if row is None:
        raise NotFound(
            f"no token {token_id!r}: `motionlab token list` or GET /v1/tokens shows their ids"
        )
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by = utcnow(), actor()
        record(db, action=AuditAction.TOKEN_REVOKE, target=f"tokens/{row.id}", name=row.name)
        db.flush()
    return row


def _by_name(db: Session, name: str) -> ApiToken | None:
    live = list(
        db.scalars(select(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None)))
    )
    return live[0] if len(live) == 1 else None


def forget_project(db: Session, *, project: str) -> None:
    """A deleted project leaves every token's list; a token of that project alone is revoked:
    a project created later under the same name is not the one it was given for."""
    live = select(ApiToken).where(ApiToken.projects.is_not(None), ApiToken.revoked_at.is_(None))
    for row in db.scalars(live):
        given = row.projects or []
        if project not in given:
            continue
        others = [name for name in given if name != project]
        if others:
            row.projects = others
        else:
            row.revoked_at, row.revoked_by = utcnow(), actor()
            record(db, action=AuditAction.TOKEN_REVOKE, target=f"tokens/{row.id}", name=row.name)
    db.flush()
