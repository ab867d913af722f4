"""Training hyperparameters, the per-iteration progress report and the progress within one."""

from __future__ import annotations

import numbers
import secrets
from dataclasses import dataclass, fields, replace

from core.params import DEFAULT_PREDICTION_WINDOW, MAX_PREDICTION_WINDOW, RunParams
from core.recipes import DEFAULT_RECIPE, check_recipe, with_recipe_defaults

_SEED_RANGE = (-(2**63), 2**64)  # what torch.manual_seed accepts


@dataclass(frozen=True)
class Hyperparameters:
    """Turi Create's `activity_classifier.create` options (spec §1.1), plus the recipe.

    With recipe="turicreate" the defaults are Turi Create's; max_iterations and batch_size
    left as None take the recipe's defaults (core.recipes.RECIPE_DEFAULTS). The motionlab
    recipe's max_iterations stays None until train() sets it from its step budget. A run's
    come resolved (from_run_params).
    """

    # Rows per prediction: one window of this many rows gives one class prediction, and the
    # network sees 20 windows (a chunk) at a time. At 50 Hz, 100 rows = one prediction per 2 s.
    prediction_window: int = DEFAULT_PREDICTION_WINDOW
    # Epochs: full passes over the training chunks. None: the recipe's default (motionlab:
    # the epochs of its optimiser-step budget, decided by train() from the data).
    max_iterations: int | None = None
    # Chunks (20 windows each) per optimiser step. None: the recipe's default. In the
    # turicreate recipe the last batch is padded to full size.
    batch_size: int = None  # type: ignore[assignment]
    # Seeds weight init, dropout and the 'auto' validation split. None: draw one at training
    # time and record it on the trained model.
    random_seed: int | None = None
    # How the network is trained (workers/engines/torch/recipes.py): "motionlab" (default) or
    # "turicreate" (Turi Create's exact training). The network and its export are the same.
    recipe: str = DEFAULT_RECIPE

    def __post_init__(self) -> None:
        check_recipe(self.recipe)
        given = {"recipe": self.recipe, "max_iterations": self.max_iterations}
        filled = with_recipe_defaults({**given, "batch_size": self.batch_size})
        object.__setattr__(self, "max_iterations", filled["max_iterations"])
        object.__setattr__(self, "batch_size", filled["batch_size"])
        for name in ("prediction_window", "max_iterations", "batch_size", "random_seed"):
            value = getattr(self, name)
            if _is_int(value):  # numpy integers become plain ints (JSON, checkpoints)
                object.__setattr__(self, name, int(value))
        _check_int("prediction_window", self.prediction_window, 1, MAX_PREDICTION_WINDOW)
        if self.max_iterations is not None:
            _check_int("max_iterations", self.max_iterations, 1, None)
        _check_int("batch_size", self.batch_size, 1, None)
        if self.random_seed is not None:
            low, high = _SEED_RANGE
            if not _is_int(self.random_seed) or not low <= self.random_seed < high:
                raise ValueError(
                    f"random_seed must be an integer or None; got {self.random_seed!r}"
                )

    @classmethod
    def from_run_params(cls, params: RunParams) -> Hyperparameters:
        """A run's training fields (each of these is one), every one resolved when the run
        was created."""
        return cls(**params.model_dump(include={field.name for field in fields(cls)}))

    def with_seed(self) -> Hyperparameters:
        """These parameters with random_seed drawn now if it was None."""
        if self.random_seed is not None:
            return self
        return replace(self, random_seed=secrets.randbelow(2**31))


@dataclass(frozen=True)
class IterationReport:
    """One row of the training progress table (spec §2.4)."""

    iteration: int  # 1-based epoch number
    # Fraction of real rows whose window was classified correctly, measured in eval mode
    # right after each batch's update (Turi Create's "Train Accuracy").
    train_accuracy: float
    validation_accuracy: float | None  # same rule on the validation chunks; None without
    # Mean cross-entropy per real window: training-mode forward passes for train_loss,
    # eval mode for validation_loss. See train.py for why this differs from Turi Create.
    train_loss: float
    validation_loss: float | None
    elapsed_s: float  # wall time since training started


@dataclass(frozen=True)
class BatchProgress:
    """How far the epoch in progress is: reported about every BATCH_PROGRESS_INTERVAL_S while
    it trains, so that a long epoch shows a sign of life long before its IterationReport."""

    iteration: int  # 1-based epoch in progress
    batches_done: int  # optimiser steps done in it (0: the epoch starts)
    batches_total: int
    train_loss: float | None  # mean CE per real window of the batches done; None before one
    elapsed_s: float  # wall time since training started


# How often BatchProgress is reported while an epoch trains (seconds, at most this plus a batch).
BATCH_PROGRESS_INTERVAL_S = 0.5


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_int(name: str, value: object, low: int, high: int | None) -> None:
    if not _is_int(value):
        raise ValueError(f"{name} must be an integer; got {value!r} ({type(value).__name__})")
    if value < low or (high is not None and value > high):  # type: ignore[operator]
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be {bounds}; got {value}")
