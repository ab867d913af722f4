"""The torch engine as a run executor: train, evaluate every part, save the checkpoint."""

from __future__ import annotations

import logging
from dataclasses import asdict

import torch

from workers.engines.registry import EngineStatus, RunContext, RunResult, base_versions
from workers.engines.torch import ActivityClassifier, Hyperparameters, train

CHECKPOINT = "model.pt"
log = logging.getLogger("motionlab.engine.torch")


class TorchEngine:
    name = "torch"

    def status(self) -> EngineStatus:
        device = "cuda" if torch.cuda.is_available() else "cpu"
        return EngineStatus(self.name, True, torch.__version__, device, "built in")

    def run(self, context: RunContext) -> RunResult:
        params = context.params
        hyperparameters = Hyperparameters(
            prediction_window=params.prediction_window,
            max_iterations=params.max_iterations,
            batch_size=params.batch_size,
            random_seed=params.random_seed,
        )
        parts = context.parts
        model = train(
            parts["train"],
            hyperparameters,
            validation=parts.get("valid"),
            on_iteration=lambda report: context.on_iteration(asdict(report)),
            should_stop=context.should_stop,
            log=log,
        )
        model.save(context.run_dir / CHECKPOINT)
        metrics = {"train": model.training_metrics}
        if model.validation_metrics is not None:
            metrics["validation"] = model.validation_metrics
        if "test" in parts:
            metrics["test"] = model.evaluate(parts["test"])
        return RunResult(
            metrics=metrics,
            versions={**base_versions(), "torch": torch.__version__},
            artifacts={"checkpoint": CHECKPOINT},
        )


def load_model(run_dir) -> ActivityClassifier:
    return ActivityClassifier.load(run_dir / CHECKPOINT)
