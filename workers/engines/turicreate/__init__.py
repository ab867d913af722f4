"""The real Turi Create 6.4.1, run in its own Python 3.8 env: the runner client (runner_client.py)
and what it reads and writes. The engine adapter is engine.py, its served model model.py.

The names below load on first use (PEP 562), like the torch package's: looking the engine up
costs no NumPy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workers.engines.turicreate.environment import Availability, availability
    from workers.engines.turicreate.exchange import (
        Probabilities,
        read_probabilities,
        write_parts,
    )
    from workers.engines.turicreate.process import (
        EngineUnavailable,
        RunnerCanceled,
        TuricreateError,
    )
    from workers.engines.turicreate.results import TrainResult
    from workers.engines.turicreate.runner_client import (
        TrainParams,
        predict_data,
        train,
        train_parts,
    )

_PACKAGE = "workers.engines.turicreate"
_WHERE = {
    "Availability": "environment",
    "availability": "environment",
    "Probabilities": "exchange",
    "read_probabilities": "exchange",
    "write_parts": "exchange",
    "EngineUnavailable": "process",
    "RunnerCanceled": "process",
    "TuricreateError": "process",
    "TrainResult": "results",
    "TrainParams": "runner_client",
    "predict_data": "runner_client",
    "train": "runner_client",
    "train_parts": "runner_client",
}
__all__ = [
    "Availability",
    "EngineUnavailable",
    "Probabilities",
    "RunnerCanceled",
    "TrainParams",
    "TrainResult",
    "TuricreateError",
    "availability",
    "predict_data",
    "read_probabilities",
    "train",
    "train_parts",
    "write_parts",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{_PACKAGE}.{_WHERE[name]}"), name)
