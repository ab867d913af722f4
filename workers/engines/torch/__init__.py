"""PyTorch re-implementation of Turi Create 6.4's activity classifier, as a plain library,
trained by the motionlab recipe (default) or Turi Create's own (recipe="turicreate").

data = MotionData.from_columns(table, session_id="sessionId", target="activity",
                               features=["accelX", "accelY", "accelZ"])
model = train(data, Hyperparameters(prediction_window=50, random_seed=1))
model.predict(new_data, output_frequency="per_window")

The names below load on first use (PEP 562): the engine adapter (engine.py) is imported by
processes that only look an engine up (a worker watching its runs, the API resolving a run's
recipe), and must not cost them torch. (No name here is also a submodule's: importing the
submodule would put the module in the name's place.)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workers.engines.torch.classifier import ActivityClassifier
    from workers.engines.torch.training import TrainingCanceled, train
    from workers.engines.torch.validation import auto_validation_split
    from workers.model.hyperparameters import Hyperparameters, IterationReport
    from workers.motion_data import MotionData, MotionDataError

_WHERE = {
    "ActivityClassifier": "workers.engines.torch.classifier",
    "Hyperparameters": "workers.model.hyperparameters",
    "IterationReport": "workers.model.hyperparameters",
    "MotionData": "workers.motion_data",
    "MotionDataError": "workers.motion_data",
    "TrainingCanceled": "workers.engines.torch.training",
    "auto_validation_split": "workers.engines.torch.validation",
    "train": "workers.engines.torch.training",
}
__all__ = [
    "ActivityClassifier",
    "Hyperparameters",
    "IterationReport",
    "MotionData",
    "MotionDataError",
    "TrainingCanceled",
    "auto_validation_split",
    "train",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
