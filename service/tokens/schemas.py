"""Token API schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from service.projects.schemas import PROJECT_NAME_PATTERN
from service.scopes import Scope

TOKEN_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$"
MAX_EXPIRY_MINUTES = 366 * 24 * 60


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., pattern=TOKEN_NAME_PATTERN, description="Who holds it: ana-iphone, ci")
    scopes: list[Scope] = Field(..., min_length=1, description="upload, read, train, admin")
    expires_in_minutes: int | None = Field(
        None, ge=1, le=MAX_EXPIRY_MINUTES, description="Stops working after this; none: never"
    )
    projects: list[Annotated[str, Field(pattern=PROJECT_NAME_PATTERN)]] | None = Field(
        None, min_length=1, max_length=100, description="The projects it may use; none: every one"
    )


class CollectTokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("phone", pattern=TOKEN_NAME_PATTERN, description="Who records with it")
    expires_in_minutes: int = Field(
        60, ge=1, le=MAX_EXPIRY_MINUTES, description="How long the phone may upload"
    )
    base_url: str = Field(
        ...,
        pattern=r"^https?://[^/?#\s]+$",
        description="The address the phone reaches this server at: https://192.168.1.20:8443",
    )
    project: str | None = Field(
        None,
        pattern=PROJECT_NAME_PATTERN,
        description="The project the phone records into: the token works there only "
        "(default: the default project)",
    )


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(..., description="Public id: what list shows and revoke takes")
    name: str
    scopes: list[Scope]
    created_at: datetime
    created_by: str | None
    revoked_at: datetime | None
    revoked_by: str | None
    expires_at: datetime | None = Field(None, description="When it stops working; null: never")
    projects: list[str] | None = Field(None, description="The projects it may use; null: all")


class TokenCreated(TokenRead):
    token: str = Field(..., description="The bearer token: shown this once, stored only hashed")


class CollectTokenCreated(TokenCreated):
    collect_url: str = Field(..., description="/collect with the token in its fragment")
    qr_svg: str = Field(..., description="collect_url as a QR code (SVG)")
