"""Run API schemas."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from core.params import Count, RunParams, TrainingFields
from service.sessions.parsing import MAX_FEATURE_NAME_LENGTH

PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
FeatureName = Annotated[str, Field(min_length=1, max_length=MAX_FEATURE_NAME_LENGTH)]
# An absolute path in a message: the directories go, the file name stays.
ABSOLUTE_PATH = re.compile(r"(?<![\w.~-])/(?:[^\s/'\":]+/)+")


def without_paths(message: str) -> str:
    """The message with each absolute path cut down to its file name (…/name)."""
    return ABSOLUTE_PATH.sub("…/", message)


class RunCreate(TrainingFields):
    """A run request: the training fields, plus where it runs and how it is filed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "experiment": "quickstart",
                    "prediction_window": 10,
                    "max_iterations": 20,
                    "random_seed": 1,
                    "data": {"activities": ["Badminton", "Running", "Standing", "Walking"]},
                    "features": ["accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ"],
                    "split": {"strategy": "column"},
                }
            ]
        }
    )

    engine: str = Field("torch", max_length=32, description="GET /v1/engines lists them")
    experiment: str = Field("default", min_length=1, max_length=256, pattern=PRINTABLE)
    name: str | None = Field(None, max_length=256, pattern=PRINTABLE)
    features: list[FeatureName] | None = Field(
        None,
        min_length=1,
        description="Default: the feature columns of the selected sessions, which must all "
        "have the same ones; give features when they differ",
    )
    random_seed: Count | None = Field(None, ge=0, lt=2**31)


PREPARING_FIELDS = {"phase", "sessions_loaded", "sessions_total", "rows_loaded", "elapsed_s"}


class LiveProgress(BaseModel):
    """What the running run does now: it loads its data (`preparing`, within about a second of
    being claimed), then trains (`training`: the epoch in progress, about every half second)."""

    phase: Literal["preparing", "training"] = Field(
        "training", description="preparing: its data loads; training: an epoch trains"
    )
    iteration: int | None = Field(None, description="The epoch in progress (1-based)")
    batches_done: int | None = Field(None, description="Its optimiser steps done so far")
    batches_total: int | None = Field(None, description="Its optimiser steps in all")
    train_loss: float | None = Field(None, description="Mean cross-entropy of its batches so far")
    sessions_loaded: int | None = Field(None, description="preparing: sessions read so far")
    sessions_total: int | None = Field(None, description="preparing: sessions of the run")
    rows_loaded: int | None = Field(None, description="preparing: rows read so far")
    elapsed_s: float = Field(
        description="Seconds since the run's process started (preparing) or training started"
    )

    def event(self, finished_iterations: int) -> tuple[str, dict[str, Any]] | None:
        """Its server-sent event: `preparing`, or `batch` for an epoch not yet finished."""
        if self.phase == "preparing":
            return "preparing", self.model_dump(include=PREPARING_FIELDS)
        if self.iteration is None or self.iteration <= finished_iterations:
            return None
        return "batch", self.model_dump(exclude=PREPARING_FIELDS - {"phase", "elapsed_s"})


class RunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    experiment: str
    name: str | None
    engine: str
    recipe: str = Field(description="How it was trained (also in params): motionlab, turicreate")
    status: str
    # Read from the run's parsed parameters (Run.run_params), not its JSON column again.
    params: RunParams = Field(validation_alias=AliasChoices("run_params", "params"))
    data_fingerprint: str
    versions: dict[str, Any] | None
    summary: dict[str, Any] | None
    overfit: dict[str, Any] | None
    cancel_requested: bool
    attempts: int
    claimed_by: str | None
    exit_code: int | None
    error_message: str | None = Field(
        None, description="Why it failed; the traceback is in the worker's log"
    )
    warnings: list[str] | None = Field(
        None, description="What the request was warned about: data it trains on anyway"
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None = None
    sessions_per_part: dict[str, int] = {}
    live_progress: LiveProgress | None = Field(
        None,
        description="While it trains: the epoch in progress, batches done of total and its loss "
        "so far (GET …/progress has one row per finished epoch)",
    )

    @field_validator("error_message")
    @classmethod
    def _no_paths(cls, message: str | None) -> str | None:
        return None if message is None else without_paths(message)


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
