"""HTTP routes for API tokens (admin): list, create, revoke."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.deps import SessionDep
from service.scopes import Scope
from service.tokens import service
from service.tokens.qr import qr_svg
from service.tokens.schemas import (
    CollectTokenCreate,
    CollectTokenCreated,
    TokenCreate,
    TokenCreated,
    TokenRead,
)

router = APIRouter(prefix="/v1", tags=["tokens"])


@router.get("/tokens", response_model=list[TokenRead])
def list_tokens(db: SessionDep, include_revoked: bool = False) -> list[TokenRead]:
    """The database's tokens (not their secrets); environment tokens are configuration."""
    rows = service.list_tokens(db, include_revoked=include_revoked)
    return [TokenRead.model_validate(row) for row in rows]


@router.post("/tokens", status_code=201, response_model=TokenCreated)
def create_token(db: SessionDep, request: TokenCreate) -> TokenCreated:
    """Create a token; the answer is the only time the token itself is shown."""
    row, token = service.create_token(
        db,
        name=request.name,
        scopes=frozenset(request.scopes),
        expires_in_minutes=request.expires_in_minutes,
        projects=request.projects,
    )
    return TokenCreated(**TokenRead.model_validate(row).model_dump(), token=token)


@router.post("/collect-tokens", status_code=201, response_model=CollectTokenCreated)
def create_collect_token(db: SessionDep, request: CollectTokenCreate) -> CollectTokenCreated:
    """An upload-only token that expires, and the /collect address that holds it as a QR code
    for a phone. The token rides in the URL's fragment, which a browser never sends."""
    row, token = service.create_token(
        db,
        name=request.name,
        scopes=frozenset({Scope.UPLOAD}),
        expires_in_minutes=request.expires_in_minutes,
        projects=None if request.project is None else [request.project],
    )
    url = f"{request.base_url}/collect#token={token}"
    if request.project is not None:
        url += f"&project={request.project}"  # where /collect sends what it records
    return CollectTokenCreated(
        **TokenRead.model_validate(row).model_dump(),
        token=token,
        collect_url=url,
        qr_svg=qr_svg(url),
    )


@router.delete("/tokens/{token_id}", status_code=204, responses={404: {}})
def revoke_token(db: SessionDep, token_id: str) -> Response:
    """Revoke a token at once (by id, or by name when one live token has it)."""
    service.revoke_token(db, token_id=token_id)
    return Response(status_code=204)
