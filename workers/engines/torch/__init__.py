"""PyTorch re-implementation of Turi Create 6.4's activity classifier, as a plain library,
trained by the motionlab recipe (default) or Turi Create's own (recipe="turicreate").

data = MotionData.from_columns(table, session_id="sessionId", target="activity",
                               features=["accelX", "accelY", "accelZ"])
model = train(data, Hyperparameters(prediction_window=50, random_seed=1))
model.predict(new_data, output_frequency="per_window")
"""

from workers.engines.torch.classifier import ActivityClassifier
from workers.engines.torch.train import TrainingCanceled, train
from workers.engines.torch.validation import auto_validation_split
from workers.model.hyperparameters import Hyperparameters, IterationReport
from workers.motion_data import MotionData, MotionDataError

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
