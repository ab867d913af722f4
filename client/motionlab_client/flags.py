"""The flags of `motionlab train` and `upload`, each tied to the API field or query parameter it
sets; and the server's hints rewritten to name those flags.

One table per command: `train` builds the POST /v1/runs body from it, and `cli_hint` turns
the server's `?label_column=` or `prediction_window` into `--label-column` or `--window`, so
that a user of the CLI is never told to pass something the CLI has no way to pass.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import Any

# core.splits.STRATEGIES, which the client may not import (a test holds the two equal).
SPLIT_STRATEGIES = ("column", "session", "subject", "auto", "none")
# core.units.DEVICE_UNITS, likewise.
DEVICE_UNITS = ("core-motion", "android", "web")


@dataclass(frozen=True)
class RunFlag:
    """A `train` flag and the field of the run request it sets (a dotted path)."""

    flag: str
    field: str
    help: str
    type: Any = str
    listed: bool = False  # comma-separated (repeatable) into a JSON list
    mapping: bool = False  # comma-separated name=value pairs (repeatable) into a JSON object
    choices: tuple[str, ...] | None = None

    @property
    def dest(self) -> str:
        return self.flag.removeprefix("--").replace("-", "_")


RUN_FLAGS = (
    RunFlag("--engine", "engine", "torch (default) or turicreate: GET /v1/engines lists them"),
    RunFlag("--recipe", "recipe", "motionlab (the torch engine's default) or turicreate"),
    RunFlag("--target", "target", "what to classify: activity (default) or subject"),
    RunFlag("--window", "prediction_window", "samples per prediction window", int),
    RunFlag("--iterations", "max_iterations", "epochs (default: the recipe's)", int),
    RunFlag("--batch-size", "batch_size", "chunks per step (default: the recipe's)", int),
    RunFlag("--seed", "random_seed", "random seed (default: a random one, recorded)", int),
    RunFlag("--experiment", "experiment", "the experiment it is filed under"),
    RunFlag("--name", "name", "a name for the run"),
    RunFlag(
        "--features",
        "features",
        "canonical features, e.g. accelX,accelY,accelZ (sessions without them are left out)",
        listed=True,
    ),
    RunFlag(
        "--split",
        "split.strategy",
        "how sessions are divided into train / validation / test: column (each session's "
        "stored split, the default), session or subject (seeded random, by fractions), auto "
        "(Turi Create's rule), none (all training)",
        choices=SPLIT_STRATEGIES,
    ),
    RunFlag(
        "--valid-fraction", "split.valid_fraction", "validation share (--split session…)", float
    ),
    RunFlag("--test-fraction", "split.test_fraction", "test share (--split session…)", float),
    RunFlag("--activities", "data.activities", "use only these activities", listed=True),
    RunFlag("--subjects", "data.subjects", "use only these subjects", listed=True),
    RunFlag("--sessions", "data.sessions", "use only these session ids, in order", listed=True),
    RunFlag("--splits", "data.splits", "use only sessions stored with these splits", listed=True),
    RunFlag("--overfit-check", "overfit_check.sessions", "train on this many sessions only", int),
    RunFlag("--model-name", "model.name", "the exported model's name (GestureClassifier)"),
    RunFlag("--model-description", "model.short_description", "its Core ML description"),
    RunFlag("--model-author", "model.author", "its Core ML author"),
    RunFlag("--model-license", "model.license", "its Core ML license"),
    RunFlag("--model-version", "model.version", "its Core ML version string"),
    RunFlag(
        "--device-units",
        "model.device_units",
        "the units its inputs take, as the device delivers them: core-motion (g, rad/s; the "
        "default), android (m/s2, rad/s) or web (m/s2, deg/s)",
        choices=DEVICE_UNITS,
    ),
    RunFlag(
        "--input-units",
        "model.input_units",
        "another unit for single inputs, e.g. rotX=deg/s",
        mapping=True,
    ),
    RunFlag(
        "--input-names",
        "model.input_names",
        "another input name for single features, e.g. accelX=ax",
        mapping=True,
    ),
)

# `upload`'s query parameters, each a flag of the same name (session_id → --session-id).
UPLOAD_PARAMETERS = (
    "session_id",
    "activity",
    "subject",
    "split",
    "sample_rate_hz",
    "format",
    "replace",
    "session_column",
    "label_column",
    "subject_column",
    "split_column",
    "timestamp_column",
    "channels",
)


def add_run_flags(parser: argparse.ArgumentParser) -> None:
    for spec in RUN_FLAGS:
        if spec.listed or spec.mapping:
            parser.add_argument(
                spec.flag,
                action="append",
                metavar="A=X,B=Y" if spec.mapping else "A,B",
                help=spec.help + " (repeatable)",
            )
        else:
            parser.add_argument(spec.flag, type=spec.type, choices=spec.choices, help=spec.help)


def run_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The POST /v1/runs body of the flags given (nested: split, data, model…)."""
    body: dict[str, Any] = {}
    for spec in RUN_FLAGS:
        value = getattr(args, spec.dest)
        if value is None:
            continue
        if spec.listed or spec.mapping:
            value = [item.strip() for given in value for item in given.split(",") if item.strip()]
        if spec.mapping:
            # A pair without '=' is left for the server to refuse, in the API's words.
            pairs = [item.partition("=") for item in value]
            value = {name.strip(): given.strip() for name, _, given in pairs}
        *parents, leaf = spec.field.split(".")
        target = body
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return body


# The server's words for the API, and the CLI's for the same thing: a query parameter
# (`?label_column=`) in upload's hints, a run field in train's: its dotted path or a name with
# an underscore anywhere, a top-level field also where quoted ("features"; a plain word
# unquoted is prose).
_QUERY = re.compile(r"\?([a-z_]+)=(?:true\b)?")
_LISTING = {"GET /v1/sessions": "`motionlab sessions`", "GET /v1/runs": "`motionlab runs`"}


def _run_field_names() -> dict[str, str]:
    names = {}
    for spec in RUN_FLAGS:
        leaf = spec.field.rsplit(".", 1)[-1]
        if "." not in spec.field:
            names[f'"{spec.field}"'] = spec.flag
        if "_" in spec.field or "." in spec.field:
            names[spec.field] = spec.flag
        if "_" in leaf:
            names[leaf] = spec.flag
    return names


_RUN_FIELDS = _run_field_names()
_RUN_FIELD = re.compile(
    "|".join(
        rf"(?<![\w.-]){re.escape(name)}(?![\w-])"
        for name in sorted(_RUN_FIELDS, key=len, reverse=True)
    )
)


def cli_hint(message: str, command: str) -> str:
    """The server's message in the words of the CLI's `command`: `?label_column=` →
    `--label-column` (upload), `prediction_window` → `--window` (train), `GET /v1/sessions`
    → `motionlab sessions`."""
    for http, listing in _LISTING.items():
        message = message.replace(http, listing)
    if command == "upload":

        def flag(match: re.Match) -> str:
            name = match.group(1)
            if name not in UPLOAD_PARAMETERS:
                return match.group(0)
            # `?channels=gyro_x=:deg/s` → `--channels gyro_x=:deg/s`: a value stays its argument.
            rest = message[match.end() : match.end() + 1]
            valued = rest.isalnum() or rest == "_"
            return "--" + name.replace("_", "-") + (" " if valued else "")

        return _QUERY.sub(flag, message)
    if command == "train":
        return _RUN_FIELD.sub(lambda match: _RUN_FIELDS[match.group(0)], message)
    return message
