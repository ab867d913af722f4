"""Self-contained checkpoints: one file rebuilds the classifier with no other input.

The file is a `torch.save` of plain containers (dicts, lists, str, int, float, None) and
tensors only, so `torch.load(weights_only=True)` reads it without unpickling code.
"""

from __future__ import annotations

import os
import platform
from dataclasses import asdict
from typing import Any

import numpy as np
import torch

from core.atomic import atomic_path
from core.recipes import RECIPE_OF_OLDER_RUNS
from workers.engines.torch.classifier import ActivityClassifier
from workers.engines.torch.model import ActivityNet
from workers.model.hyperparameters import Hyperparameters, IterationReport

FORMAT = "motionlab.activity_classifier"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A file that is not a motionlab activity-classifier checkpoint this code can read."""


def save_checkpoint(model: ActivityClassifier, path: str | os.PathLike[str]) -> None:
    """Write `model` to `path` atomically (a temporary file, then os.replace)."""
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "state_dict": {name: t.detach().cpu() for name, t in model.net.state_dict().items()},
        "hyperparameters": asdict(model.params),
        "classes": list(model.classes),
        "features": list(model.features),
        "target": model.target,
        "session_id": model.session_id,
        "num_sessions": model.num_sessions,
        "num_examples": model.num_examples,
        "training_time": model.training_time,
        "training_metrics": model.training_metrics,
        "validation_metrics": model.validation_metrics,
        "progress": [asdict(report) for report in model.progress],
        "versions": {
            "torch": str(torch.__version__),  # TorchVersion is not weights_only-safe
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
    }
    with atomic_path(path) as temporary:
        torch.save(payload, temporary)


def load_checkpoint(path: str | os.PathLike[str]) -> ActivityClassifier:
    """Rebuild the classifier saved at `path`, on the CPU, in eval mode."""
    payload = read_payload(path)
    # Checkpoints written before recipes existed were trained by the turicreate recipe.
    params = Hyperparameters(**{"recipe": RECIPE_OF_OLDER_RUNS, **payload["hyperparameters"]})
    net = ActivityNet(
        num_features=len(payload["features"]),
        num_classes=len(payload["classes"]),
        prediction_window=params.prediction_window,
    )
    net.load_state_dict(payload["state_dict"])
    return ActivityClassifier(
        net=net,
        classes=payload["classes"],
        features=payload["features"],
        target=payload["target"],
        session_id=payload["session_id"],
        params=params,
        num_sessions=payload["num_sessions"],
        num_examples=payload["num_examples"],
        training_time=payload["training_time"],
        training_metrics=payload["training_metrics"],
        validation_metrics=payload["validation_metrics"],
        progress=[IterationReport(**report) for report in payload["progress"]],
    )


def read_payload(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The raw checkpoint dict, after checking it is one this code understands."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as error:
        raise CheckpointError(f"{path} is not a readable checkpoint: {error}") from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a motionlab activity-classifier checkpoint")
    if payload.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format version {payload.get('format_version')}; "
            f"this code reads version {FORMAT_VERSION}"
        )
    return payload
