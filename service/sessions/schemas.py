"""Session API schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class SessionStored(BaseModel):
    """One entry of an upload's answer."""

    id: str
    rows: int
    features: list[str]
    sha256: str
    created: bool
    replaced: bool = False


class UploadResult(BaseModel):
    sessions: list[SessionStored]


class SessionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    activity: str
    subject: str | None
    split: str | None
    sample_rate_hz: float | None
    features: list[str]
    has_timestamp: bool
    row_count: int
    duration_s: float | None
    blob_sha256: str
    source: str | None
    created_at: datetime


class SessionPage(BaseModel):
    items: list[SessionRead]
    total: int
    limit: int
    offset: int


class GroupStats(BaseModel):
    sessions: int
    rows: int
    seconds: float | None  # None when a session of the group has no known sample rate


class Stats(BaseModel):
    sessions: int
    rows: int
    seconds: float | None
    by_activity: dict[str, GroupStats]
    by_subject: dict[str, GroupStats]
    by_split: dict[str, GroupStats]
    warnings: list[str]
