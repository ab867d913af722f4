"""A run's parameters: typed, validated once when the run is created, frozen with it.

`RunParams` is what a worker, an engine and a download read; the API's `RunCreate`
(service/runs/schemas.py) shares the same fields and limits through `TrainingFields`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from core.recipes import RECIPE_OF_OLDER_RUNS, RecipeName, with_recipe_defaults
from core.splits import STRATEGIES

SPLIT_NAMES = Literal["train", "valid", "test"]
DeviceUnits = Literal["core-motion", "android", "web"]  # core/units.py DEVICE_UNITS
MODEL_NAME_PATTERN = r"^[A-Za-z0-9._-]{1,128}$"
# Rows per prediction: one window of this many rows gives one class prediction (at 50 Hz,
# 100 rows = one prediction per 2 s). The library's Hyperparameters default to it too.
DEFAULT_PREDICTION_WINDOW = 100
MAX_PREDICTION_WINDOW = 400  # Turi Create's limit (spec §1.1)


def _not_a_boolean(value: Any) -> Any:
    """JSON's true / false are not numbers (pydantic would read them as 1 / 0)."""
    if isinstance(value, bool):
        raise ValueError("a number is needed, not true or false")
    return value


# The numbers of a run request: an integer (or a number) that true / false never passes for.
Count = Annotated[int, BeforeValidator(_not_a_boolean)]
Fraction = Annotated[float, BeforeValidator(_not_a_boolean)]


class DataSelection(BaseModel):
    """Which stored sessions a run uses; every given filter must match."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    activities: list[str] | None = None
    subjects: list[str] | None = None
    sessions: list[str] | None = Field(None, description="Session ids, in the order to use")
    splits: list[SPLIT_NAMES] | None = None


class SplitStrategy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: Literal[STRATEGIES] = Field(  # type: ignore[valid-type]
        "column",
        description="column: each session's stored split; session / subject: seeded random "
        "split of whole sessions / subjects; auto: Turi Create's rule; none: all training",
    )
    valid_fraction: Fraction = Field(0.0, ge=0, lt=1)
    test_fraction: Fraction = Field(0.0, ge=0, lt=1)

    @model_validator(mode="after")
    def _fractions_leave_training(self) -> SplitStrategy:
        if self.valid_fraction + self.test_fraction >= 1:
            raise ValueError("valid_fraction + test_fraction must be below 1 (training needs data)")
        return self


class OverfitCheck(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sessions: Count = Field(..., ge=1, le=1000, description="Train on this many sessions only")


class ModelInfo(BaseModel):
    """How the exported model describes itself (Core ML metadata, download file name) and what
    its inputs take."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field("GestureClassifier", pattern=MODEL_NAME_PATTERN)
    short_description: str | None = None
    author: str | None = None
    license: str | None = None
    version: str | None = None
    device_units: DeviceUnits = Field(
        "core-motion",
        description="The units the exported model's inputs take, as the device delivers them: "
        "core-motion (iOS: g, rad/s, uT, rad), android (m/s2, rad/s, uT, rad) or web "
        "(DeviceMotionEvent: m/s2, deg/s). The conversion from the training units is folded "
        "into the first layer",
    )
    input_units: dict[str, str] | None = Field(
        None,
        description='Per feature, another unit than device_units gives: {"rotX": "deg/s"}',
    )
    input_names: dict[str, str] | None = Field(
        None,
        description='Per feature, another input name than the feature\'s: {"accelX": "ax"}',
    )


class FeatureChannel(BaseModel):
    """What a run's feature is, and the unit the run trained it in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    sensor: str
    axis: str | None = None
    unit: str = ""


class ModelInput(BaseModel):
    """An input of the exported model: its name and the unit it takes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    unit: str = ""


class TrainingFields(BaseModel):
    """The fields a run request and the frozen run share, with their limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: str = Field("activity", description="activity or subject")
    recipe: RecipeName | None = Field(
        None,
        description="How the torch engine trains: motionlab (the default: standardisation, "
        "augmentation, a learning-rate schedule; better models) or turicreate (Turi Create "
        "6.4's exact training). The exported model's interface is the same. The turicreate "
        "engine only trains the turicreate recipe, its default",
    )
    prediction_window: Count = Field(DEFAULT_PREDICTION_WINDOW, ge=1, le=MAX_PREDICTION_WINDOW)
    max_iterations: Count | None = Field(
        None,
        ge=1,
        le=10_000,
        description="Epochs; default: the recipe's (turicreate 10; motionlab as many as its "
        "budget of 400 optimiser steps takes on the training part, frozen with the run)",
    )
    batch_size: Count | None = Field(
        None, ge=1, le=4096, description="Chunks per step; default: the recipe's (turicreate 32)"
    )
    data: DataSelection = DataSelection()
    split: SplitStrategy = SplitStrategy()
    overfit_check: OverfitCheck | None = None
    model: ModelInfo = ModelInfo()


# Every field is decided when the run is created (service/runs/service.py: the recipe through
# the run's engine, the recipe's defaults by the validator below), then frozen with the run.
class RunParams(TrainingFields):
    """A queued run's parameters, resolved: the feature columns and the seed are decided."""

    # Rows stored by older versions carry keys that are no longer used (session_column).
    model_config = ConfigDict(extra="ignore", frozen=True)

    features: list[str] = Field(..., min_length=1)
    # Each feature's channel and training unit, and the exported model's inputs, in feature
    # order; None for runs stored before channels (features were stored column names).
    channels: list[FeatureChannel] | None = None
    inputs: list[ModelInput] | None = None
    random_seed: int = Field(..., ge=0, lt=2**31)
    # Resolved: never None once a run is created (runs stored before recipes: turicreate).
    recipe: RecipeName = RECIPE_OF_OLDER_RUNS
    max_iterations: int = Field(..., ge=1, le=10_000)
    batch_size: int = Field(..., ge=1, le=4096)

    @model_validator(mode="before")
    @classmethod
    def _recipe_defaults(cls, values: object) -> object:
        """Fill max_iterations / batch_size left out (or None) with the recipe's defaults:
        when the run is created, and for rows stored before a field existed."""
        if not isinstance(values, dict):
            return values
        if values.get("recipe") is None:
            values = {**values, "recipe": RECIPE_OF_OLDER_RUNS}
        return with_recipe_defaults(values)
