"""`motionlab train` has a flag for every field of the run request the API takes, and the
server's hints reach a CLI user in the CLI's words."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from core.settings import Settings
from core.splits import STRATEGIES
from core.units import DEVICE_UNITS as SERVER_DEVICE_UNITS
from motionlab_client.cli import build_parser
from motionlab_client.flags import (
    DEVICE_UNITS,
    RUN_FLAGS,
    SPLIT_STRATEGIES,
    UPLOAD_PARAMETERS,
    cli_hint,
    run_fields,
)
from service.app import create_app
from service.runs.schemas import RunCreate

pytestmark = pytest.mark.unit


def leaf_fields(model: type[BaseModel], prefix: str = "") -> set[str]:
    """The dotted paths of a request model's fields, nested models walked into."""
    leaves = set()
    for name, field in model.model_fields.items():
        kind = field.annotation
        nested = [t for t in getattr(kind, "__args__", (kind,)) if isinstance(t, type)]
        models = [t for t in nested if issubclass(t, BaseModel)]
        if models:
            leaves |= leaf_fields(models[0], f"{prefix}{name}.")
        else:
            leaves.add(prefix + name)
    return leaves


def test_every_field_of_a_run_request_has_a_train_flag():
    assert {spec.field for spec in RUN_FLAGS} == leaf_fields(RunCreate)


def test_train_flags_build_the_request_body():
    args = build_parser().parse_args(
        [
            *("train", "--engine", "torch", "--recipe", "turicreate", "--window", "10"),
            *("--split", "subject", "--valid-fraction", "0.2", "--test-fraction", "0.25"),
            *("--activities", "Walking,Running", "--activities", "Standing"),
            *("--splits", "train", "--features", "accelX, accelY", "--overfit-check", "3"),
            *("--model-name", "Wave", "--target", "activity", "--seed", "7"),
            *("--device-units", "android", "--input-units", "rotX=deg/s, rotY=deg/s"),
            *("--input-names", "accelX=ax", "--input-names", "accelY=ay"),
        ]
    )
    body = run_fields(args)
    assert body == {
        "engine": "torch",
        "recipe": "turicreate",
        "prediction_window": 10,
        "random_seed": 7,
        "target": "activity",
        "features": ["accelX", "accelY"],
        "split": {"strategy": "subject", "valid_fraction": 0.2, "test_fraction": 0.25},
        "data": {"activities": ["Walking", "Running", "Standing"], "splits": ["train"]},
        "overfit_check": {"sessions": 3},
        "model": {
            "name": "Wave",
            "device_units": "android",
            "input_units": {"rotX": "deg/s", "rotY": "deg/s"},
            "input_names": {"accelX": "ax", "accelY": "ay"},
        },
    }
    RunCreate.model_validate(body)  # what the API takes


def test_flags_left_out_are_left_to_the_server():
    args = build_parser().parse_args(["train"])
    assert run_fields(args) == {}


def test_server_hints_name_the_commands_flags():
    upload = cli_hint(
        "missing label column 'activity' (columns: t, x); name yours with ?label_column=, or "
        "give ?activity= for a file holding one session; or ?replace=true; ?output_type=",
        "upload",
    )
    assert upload == (
        "missing label column 'activity' (columns: t, x); name yours with --label-column, or "
        "give --activity for a file holding one session; or --replace; ?output_type="
    )
    train = cli_hint(
        "prediction_window 50 is longer than every selected session: Use a prediction_window "
        'of at most 30. Give "features" to choose the columns; split.valid_fraction: Input '
        "should be less than 1; unknown session id(s) in data.sessions: 'x'; GET /v1/sessions "
        "lists them",
        "train",
    )
    assert train == (
        "--window 50 is longer than every selected session: Use a --window of at most 30. "
        "Give --features to choose the columns; --valid-fraction: Input should be less than 1; "
        "unknown session id(s) in --sessions: 'x'; `motionlab sessions` lists them"
    )
    unit = cli_hint("the values look like deg/s; declare ?channels=wx=:deg/s,wy=:deg/s", "upload")
    assert unit == "the values look like deg/s; declare --channels wx=:deg/s,wy=:deg/s"
    prose = "the features of the recipe"  # plain words stay words
    assert cli_hint(prose, "train") == prose


def test_every_query_parameter_of_an_upload_is_an_upload_flag(tmp_path):
    """So that each `?name=` of the server's upload hints names a flag (`--name`)."""
    openapi = create_app(Settings(home=tmp_path / "home", workers=0)).openapi()
    parameters = openapi["paths"]["/v1/sessions"]["post"]["parameters"]
    assert {p["name"] for p in parameters if p["in"] == "query"} == set(UPLOAD_PARAMETERS)
    upload = build_parser()._subparsers._group_actions[0].choices["upload"]
    flags = {option for action in upload._actions for option in action.option_strings}
    assert {"--" + name.replace("_", "-") for name in UPLOAD_PARAMETERS} <= flags


def test_the_split_strategies_are_the_servers():
    """The client may not import core (it installs without it): a copy, held to the original."""
    assert SPLIT_STRATEGIES == STRATEGIES
    assert tuple(SERVER_DEVICE_UNITS) == DEVICE_UNITS
