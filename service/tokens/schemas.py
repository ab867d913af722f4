"""Token API schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from service.auth import Scope

TOKEN_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$"


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., pattern=TOKEN_NAME_PATTERN, description="Who holds it: ana-iphone, ci")
    scopes: list[Scope] = Field(..., min_length=1, description="upload, read, train, admin")


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(..., description="Public id: what list shows and revoke takes")
    name: str
    scopes: list[Scope]
    created_at: datetime
    created_by: str | None
    revoked_at: datetime | None
    revoked_by: str | None


class TokenCreated(TokenRead):
    token: str = Field(..., description="The bearer token: shown this once, stored only hashed")
