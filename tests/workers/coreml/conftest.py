"""Networks and classifiers for the Core ML tests (tests/support/networks.py), as fixtures."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from core.recipes import RECIPES
from tests.support.networks import random_net, session_rows, torch_stream, wrap
from workers.engines.torch.classifier import ActivityClassifier
from workers.engines.torch.model import ActivityNet


@pytest.fixture
def make_net() -> Callable[..., ActivityNet]:
    return random_net


@pytest.fixture(params=RECIPES)
def make_classifier(request) -> Callable[..., ActivityClassifier]:
    """Every test that exports a classifier runs once per recipe."""

    def make(*, classes: Sequence[Any], features: Sequence[str], prediction_window: int, seed=0):
        net = random_net(
            num_features=len(features),
            num_classes=len(classes),
            prediction_window=prediction_window,
            seed=seed,
        )
        return wrap(net, classes=classes, features=features, recipe=request.param)

    return make


@pytest.fixture
def make_rows() -> Callable[..., np.ndarray]:
    return session_rows


@pytest.fixture
def stream_torch() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    return torch_stream
