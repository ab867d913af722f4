"""Training recipes by name, and the run fields each one fills in when a request leaves them out.

The recipes themselves (what each trains with) live in workers/engines/torch/recipes.py; this
is the part the API needs to validate and freeze a run without importing the ML stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal, NamedTuple

TURICREATE: Final = "turicreate"  # Turi Create 6.4's exact training, kept for parity, forever
MOTIONLAB: Final = "motionlab"  # the default: better models behind the same exported interface
RECIPES = (MOTIONLAB, TURICREATE)
DEFAULT_RECIPE = MOTIONLAB  # the library's and the torch engine's (each engine names its own)
# What runs and checkpoints stored before recipes existed were trained with.
RECIPE_OF_OLDER_RUNS: Final = TURICREATE
RecipeName = Literal["motionlab", "turicreate"]


class RecipeDefaults(NamedTuple):
    max_iterations: int  # epochs
    batch_size: int  # chunks of 20 windows per optimiser step


RECIPE_DEFAULTS = {
    TURICREATE: RecipeDefaults(max_iterations=10, batch_size=32),  # Turi Create's own
    MOTIONLAB: RecipeDefaults(max_iterations=150, batch_size=16),
}


def with_recipe_defaults(values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` with max_iterations and batch_size, where left out or None, set to the
    defaults of values["recipe"] (unchanged for an unknown recipe: the caller's validation
    names it). The one place a recipe's defaults are applied: a run when it is created (and a
    run stored before a field existed, when read), the library's Hyperparameters."""
    filled = dict(values)
    defaults = RECIPE_DEFAULTS.get(filled.get("recipe"))  # type: ignore[arg-type]
    if defaults is not None:
        for name, value in defaults._asdict().items():
            if filled.get(name) is None:
                filled[name] = value
    return filled


def check_recipe(name: object) -> str:
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; use one of {', '.join(RECIPES)}")
    return str(name)
