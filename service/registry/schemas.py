"""Model registry API schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service.sessions.parsing import ID_REGEX

# Like session ids: no dot first (so never "." or ".."), nothing after the last character.
MODEL_NAME_PATTERN = ID_REGEX
# An alias never starts with a digit, so a reference is a version number or an alias name.
ALIAS_PATTERN = r"^[A-Za-z_][A-Za-z0-9._-]{0,63}$"
MAX_VERSION = 2**31 - 1
REFERENCE_PATTERN = r"^(?:[1-9][0-9]{0,8}|[A-Za-z_][A-Za-z0-9._-]{0,63})$"
LATEST = "latest"
VERSIONS = "versions"  # GET /v1/models/{name}/versions lists them: not an alias name


class VersionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(..., min_length=1, max_length=32, description="A succeeded run")


class AliasUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(..., ge=1, le=MAX_VERSION, description="An existing version")


class VersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    model_name: str
    version: int
    run_id: str
    created_at: datetime
    created_by: str | None = Field(None, description="Who registered it (a token's name)")


class AliasRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    model_name: str
    alias: str
    version: int
    updated_at: datetime
    updated_by: str | None = Field(None, description="Who last moved it (a token's name)")


class AliasChange(BaseModel):
    """One move or removal of an alias."""

    alias: str
    version: int | None = Field(..., description="Where it points since (null: removed)")
    previous_version: int | None = Field(..., description="Where it pointed before (null: new)")
    by: str = Field(..., description="The token's name; `local` without tokens; `cli`")
    token_id: str | None
    at: datetime


class RunBrief(BaseModel):
    """The run behind a version: what it was trained on and how."""

    id: str
    experiment: str
    name: str | None
    engine: str
    status: str
    target: str | None
    features: list[str] | None
    prediction_window: int | None
    data_fingerprint: str
    finished_at: datetime | None
    summary: dict[str, Any] | None


class VersionDetail(VersionRead):
    aliases: list[str]
    run: RunBrief
    test_metrics: dict[str, Any] | None = Field(
        None, description="The run's full metric set on its test part (null: no test part)"
    )


class ModelSummary(BaseModel):
    name: str
    created_at: datetime
    versions: int
    latest_version: int | None
    aliases: dict[str, int] = Field(..., description="alias → version")


class ModelDetail(BaseModel):
    name: str
    created_at: datetime
    aliases: dict[str, int]
    versions: list[VersionDetail] = Field(..., description="Newest first")
    alias_history: list[AliasChange] = Field(..., description="Newest first")
