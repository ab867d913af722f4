"""Audit log API schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    actor: str = Field(..., description="The token's name; `local` without tokens; `cli`")
    token_id: str | None = Field(None, description="The token's id (env:… for environment ones)")
    action: str = Field(..., description="e.g. version.register, alias.set, session.delete")
    target: str = Field(..., description="e.g. models/GestureClassifier, sessions/rec-0042")
    details: dict[str, Any] | None


class AuditPage(BaseModel):
    items: list[AuditEventRead]
    total: int
    limit: int
    offset: int
