"""Training recipes by name, and the run fields each one fills in when a request leaves them out.

The recipes themselves (what each trains with) live in workers/engines/torch/recipes.py; this
is the part the API needs to validate and freeze a run without importing the ML stack.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

TURICREATE = "turicreate"  # Turi Create 6.4's exact training, kept for parity, forever
MOTIONLAB = "motionlab"  # the default: better models behind the same exported interface
RECIPES = (MOTIONLAB, TURICREATE)
DEFAULT_RECIPE = MOTIONLAB
RecipeName = Literal["motionlab", "turicreate"]


class RecipeDefaults(NamedTuple):
    max_iterations: int  # epochs
    batch_size: int  # chunks of 20 windows per optimiser step


RECIPE_DEFAULTS = {
    TURICREATE: RecipeDefaults(max_iterations=10, batch_size=32),  # Turi Create's own
    MOTIONLAB: RecipeDefaults(max_iterations=150, batch_size=16),
}


def check_recipe(name: object) -> str:
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; use one of {', '.join(RECIPES)}")
    return str(name)
