"""The real Turi Create 6.4.1, run in its own Python 3.8 env: the runner client (runner_client.py)
and what it reads and writes. The engine adapter is engine.py, its served model model.py."""

from workers.engines.turicreate.environment import Availability, availability
from workers.engines.turicreate.exchange import Probabilities, read_probabilities, write_parts
from workers.engines.turicreate.process import EngineUnavailable, RunnerCanceled, TuricreateError
from workers.engines.turicreate.results import TrainResult
from workers.engines.turicreate.runner_client import (
    TrainParams,
    predict_data,
    train,
    train_parts,
)

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
