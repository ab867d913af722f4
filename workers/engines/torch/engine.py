"""The torch engine behind the engine contract: train, evaluate every part, save the checkpoint,
export it to Core ML, load it for serving.

Not imported by the package's __init__: the library itself needs none of the run machinery.
torch loads only when the engine trains, serves or reports its device: a worker watching its
runs and an API resolving a run's recipe look the engine up without it.
"""

from __future__ import annotations

import importlib.metadata
import logging
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from core.params import RunParams
from core.recipes import DEFAULT_RECIPE, RECIPES
from workers.engines.base import (
    COREML_FILE,
    EngineStatus,
    ModelFileMissing,
    RunContext,
    RunResult,
    base_versions,
)

if TYPE_CHECKING:
    from workers.engines.torch import ActivityClassifier

CHECKPOINT = "model.pt"
log = logging.getLogger("motionlab.engine.torch")


class TorchEngine:
    name = "torch"
    serves_inline = True  # about a millisecond for a few windows, in-process
    recipes: tuple[str, ...] = RECIPES  # workers/engines/torch/recipes.py trains each
    default_recipe = DEFAULT_RECIPE

    def status(self) -> EngineStatus:
        version = importlib.metadata.version("torch")
        device = "cpu"
        if "+cpu" not in version:  # a CPU build has no CUDA: no need to load torch to know
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
        return EngineStatus(self.name, True, version, device, "built in")

    def run(self, context: RunContext) -> RunResult:
        import torch

        from workers.engines.torch import Hyperparameters, train

        hyperparameters = Hyperparameters.from_run_params(context.params)
        parts = context.parts
        model = train(
            parts["train"],
            hyperparameters,
            validation=parts.get("valid"),
            on_iteration=lambda report: context.on_iteration(asdict(report)),
            on_batch=lambda progress: context.on_batch(asdict(progress)),
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

    def export_coreml(self, run_dir: Path, params: RunParams, *, run_id: str) -> Path:
        # coremltools: only when exporting
        from workers.exports.coreml.export import model_spec
        from workers.exports.coreml.inputs import declare_inputs
        from workers.exports.coreml.network import save_spec_atomically

        info = params.model
        spec = model_spec(
            self.load_model(run_dir),
            inputs=[i.name for i in params.inputs] if params.inputs else None,
            run_id=run_id,
            short_description=info.short_description,
            author=info.author,
            license=info.license,
            version_string=info.version,
        )
        declare_inputs(spec, params)  # the units, folded and in the metadata
        return save_spec_atomically(spec, run_dir / COREML_FILE)

    def native_file(self, run_dir: Path) -> Path:
        path = run_dir / CHECKPOINT
        if not path.is_file():
            raise ModelFileMissing(f"run {run_dir.name} has no checkpoint file {CHECKPOINT}")
        return path

    def load_model(self, run_dir: Path) -> ActivityClassifier:
        from workers.engines.torch import ActivityClassifier

        return ActivityClassifier.load(self.native_file(run_dir))
