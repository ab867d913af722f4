"""Training recipes by name, and the run fields each one fills in when a request leaves them out.

The recipes themselves (what each trains with) live in workers/engines/torch/recipes.py; this
is the part the API needs to validate and freeze a run without importing the ML stack.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal, NamedTuple

TURICREATE: Final = "turicreate"  # Turi Create 6.4's exact training, kept for parity, forever
MOTIONLAB: Final = "motionlab"  # the default: better models behind the same exported interface
RECIPES = (MOTIONLAB, TURICREATE)
DEFAULT_RECIPE = MOTIONLAB  # the library's and the torch engine's (each engine names its own)
# What runs and checkpoints stored before recipes existed were trained with.
RECIPE_OF_OLDER_RUNS: Final = TURICREATE
RecipeName = Literal["motionlab", "turicreate"]
CHUNK_WINDOWS = 20  # windows per chunk, the network's unit of training (Turi Create's 20)


class RecipeDefaults(NamedTuple):
    max_iterations: int | None  # epochs; None: as many as `training_steps` optimiser steps take
    batch_size: int  # chunks of 20 windows per optimiser step
    training_steps: int | None = None  # the budget when max_iterations is None


RECIPE_DEFAULTS = {
    TURICREATE: RecipeDefaults(max_iterations=10, batch_size=32),  # Turi Create's own
    # A budget in steps, not epochs: 10x the data costs no more (fewer, longer epochs), and a
    # small data set still gets enough updates (BasicMotions: 133 epochs of 3 steps).
    MOTIONLAB: RecipeDefaults(max_iterations=None, batch_size=16, training_steps=400),
}


def with_recipe_defaults(values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` with max_iterations and batch_size, where left out or None, set to the
    defaults of values["recipe"] (unchanged for an unknown recipe: the caller's validation
    names it). The one place a recipe's defaults are applied: a run when it is created (and a
    run stored before a field existed, when read), the library's Hyperparameters. A step
    budget leaves max_iterations None: default_max_iterations decides it from the data."""
    filled = dict(values)
    defaults = RECIPE_DEFAULTS.get(filled.get("recipe"))  # type: ignore[arg-type]
    if defaults is not None:
        for name in ("max_iterations", "batch_size"):
            if filled.get(name) is None:
                filled[name] = getattr(defaults, name)
    return filled


def check_recipe(name: object) -> str:
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; use one of {', '.join(RECIPES)}")
    return str(name)


def count_chunks(session_rows: Iterable[int], prediction_window: int) -> int:
    """Chunks the sessions cut into: each session from its first row, the last one padded."""
    chunk_rows = CHUNK_WINDOWS * prediction_window
    return sum(-(-int(rows) // chunk_rows) for rows in session_rows)


def default_max_iterations(recipe: str, *, num_chunks: int, batch_size: int) -> int:
    """The epochs a run of `recipe` trains when max_iterations is left out: the recipe's own,
    or the epochs closest to its step budget (at least 1) with `batch_size` chunks a step."""
    defaults = RECIPE_DEFAULTS[check_recipe(recipe)]
    if defaults.max_iterations is not None:
        return defaults.max_iterations
    assert defaults.training_steps is not None
    steps_per_epoch = max(1, -(-num_chunks // batch_size))
    return max(1, round(defaults.training_steps / steps_per_epoch))
