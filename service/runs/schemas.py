"""Run API schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workers.splits import STRATEGIES


class DataSelection(BaseModel):
    """Which stored sessions a run uses; every given filter must match."""

    model_config = ConfigDict(extra="forbid")

    activities: list[str] | None = None
    subjects: list[str] | None = None
    sessions: list[str] | None = Field(None, description="Session ids, in the order to use")
    splits: list[Literal["train", "valid", "test"]] | None = None


class SplitStrategy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategy: Literal[STRATEGIES] = Field(  # type: ignore[valid-type]
        "column",
        description="column: each session's stored split; session / subject: seeded random "
        "split of whole sessions / subjects; auto: Turi Create's rule; none: all training",
    )
    valid_fraction: float = Field(0.0, ge=0, lt=1)
    test_fraction: float = Field(0.0, ge=0, lt=1)

    @model_validator(mode="after")
    def _fractions_leave_training(self) -> SplitStrategy:
        if self.valid_fraction + self.test_fraction >= 1:
            raise ValueError("valid_fraction + test_fraction must be below 1 (training needs data)")
        return self


class OverfitCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sessions: int = Field(..., ge=1, le=1000, description="Train on this many sessions only")


class ModelInfo(BaseModel):
    """How the exported model describes itself (Core ML metadata, download file name)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("GestureClassifier", pattern=r"^[A-Za-z0-9._-]{1,128}$")
    short_description: str | None = None
    author: str | None = None
    license: str | None = None
    version: str | None = None


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    engine: str = "torch"
    experiment: str = Field("default", min_length=1, max_length=256)
    name: str | None = Field(None, max_length=256)
    target: str = Field("activity", description="activity or subject")
    features: list[str] | None = Field(None, description="Default: columns common to all")
    prediction_window: int = Field(100, ge=1, le=400)
    max_iterations: int = Field(10, ge=1, le=10_000)
    batch_size: int = Field(32, ge=1, le=4096)
    random_seed: int | None = Field(None, ge=0, lt=2**31)
    data: DataSelection = DataSelection()
    split: SplitStrategy = SplitStrategy()
    overfit_check: OverfitCheck | None = None
    model: ModelInfo = ModelInfo()


class RunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    experiment: str
    name: str | None
    engine: str
    status: str
    params: dict[str, Any]
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
