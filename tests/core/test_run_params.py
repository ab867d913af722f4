"""A run's parameters are decided once, when it is created, and read as they were stored:
rows written before a field existed keep meaning what they meant."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from core.models import Run, RunStatus
from core.params import RunParams
from core.recipes import RECIPE_DEFAULTS
from service.runs.schemas import RunCreate, RunRead
from workers.model.hyperparameters import Hyperparameters

pytestmark = pytest.mark.unit

# A row as an early version stored it: no recipe, iterations or batch size; a key since dropped.
OLDER_ROW = {"features": ["x"], "random_seed": 3, "session_column": "sessionId"}


def test_a_run_stored_before_recipes_reads_as_a_turicreate_run():
    params = RunParams.model_validate(OLDER_ROW)
    assert params.recipe == "turicreate"
    assert (params.max_iterations, params.batch_size) == (10, 32)
    assert params.prediction_window == 100


def test_a_recipe_fills_only_the_fields_a_run_left_out():
    params = RunParams(features=["x"], random_seed=1, recipe="turicreate", batch_size=8)
    assert (params.max_iterations, params.batch_size) == (
        RECIPE_DEFAULTS["turicreate"].max_iterations,
        8,
    )


def test_a_step_budget_leaves_the_epochs_to_the_run_s_data():
    # motionlab's epochs come from its step budget and the training part's size, which only
    # create_run knows: RunParams alone has nothing to fill them from.
    assert RECIPE_DEFAULTS["motionlab"].max_iterations is None
    with pytest.raises(ValidationError, match="max_iterations"):
        RunParams(features=["x"], random_seed=1, recipe="motionlab")
    params = RunParams(features=["x"], random_seed=1, recipe="motionlab", max_iterations=33)
    assert (params.max_iterations, params.batch_size) == (33, 16)


def test_a_runs_parameters_are_parsed_once_per_object():
    run = Run(
        id="r1",
        experiment="default",
        engine="torch",
        status=RunStatus.QUEUED,
        params=dict(OLDER_ROW),
        data_fingerprint="f",
        attempts=0,
        cancel_requested=False,
        sessions_per_part={"train": 1},
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    assert run.run_params is run.run_params
    read = RunRead.model_validate(run)
    assert read.params is run.run_params  # the parsed object itself, not the JSON again
    assert read.recipe == read.params.recipe == "turicreate"


def test_a_motionlab_run_stored_before_the_step_budget_keeps_its_epochs():
    # Such runs stored max_iterations 150 (the recipe's epochs then); they read, retrain and
    # export with those, not with the epochs that today's budget would buy.
    stored = {**OLDER_ROW, "recipe": "motionlab", "max_iterations": 150, "batch_size": 16}
    params = RunParams.model_validate(stored)
    assert (params.recipe, params.max_iterations, params.batch_size) == ("motionlab", 150, 16)
    assert Hyperparameters.from_run_params(params).max_iterations == 150


@pytest.mark.parametrize(
    "body",
    [
        {"random_seed": False},
        {"prediction_window": True},
        {"max_iterations": True},
        {"batch_size": True},
        {"overfit_check": {"sessions": True}},
        {"split": {"strategy": "session", "valid_fraction": False}},
        {"split": {"strategy": "session", "test_fraction": False}},
    ],
)
def test_true_and_false_are_not_numbers_of_a_run_request(body):
    """pydantic reads JSON's true / false as 1 / 0: a seed of `false` was a run with seed 0
    (found by the contract fuzzing)."""
    with pytest.raises(ValidationError, match="not true or false"):
        RunCreate.model_validate_json(json.dumps(body))
    numbers = {"random_seed": 0, "prediction_window": 1, "max_iterations": 1, "batch_size": 1}
    assert RunCreate.model_validate_json(json.dumps(numbers)).random_seed == 0
