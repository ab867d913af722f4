"""Run API schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.params import RunParams, TrainingFields


class RunCreate(TrainingFields):
    """A run request: the training fields, plus where it runs and how it is filed."""

    engine: str = "torch"
    experiment: str = Field("default", min_length=1, max_length=256)
    name: str | None = Field(None, max_length=256)
    features: list[str] | None = Field(None, description="Default: columns common to all")
    random_seed: int | None = Field(None, ge=0, lt=2**31)


class RunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    experiment: str
    name: str | None
    engine: str
    status: str
    params: RunParams
    data_fingerprint: str
    versions: dict[str, Any] | None
    summary: dict[str, Any] | None
    overfit: dict[str, Any] | None
    cancel_requested: bool
    attempts: int
    claimed_by: str | None
    exit_code: int | None
    error_message: str | None
    error_traceback: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None = None
    sessions_per_part: dict[str, int] = {}


class RunPage(BaseModel):
    items: list[RunRead]
    total: int
    limit: int
    offset: int


class ProgressRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    iteration: int
    train_accuracy: float | None
    validation_accuracy: float | None
    train_loss: float | None
    validation_loss: float | None
    elapsed_s: float


class EngineRead(BaseModel):
    name: str
    available: bool
    version: str | None
    device: str | None
    detail: str
