"""What a Turi Create training run leaves in its output directory, read from this side.

The names do not clash with the worker's own (result.json, metrics.json, error.json), so the
output directory can be the run directory itself.

summary.json        the runner's final summary (also its 'done' line)
params.json         the parameters it was given (runner_client.train writes it)
part_metrics.json   motionlab's metrics per part ('train', 'validation', 'test'), computed on
                    this side from the exported model (runner_client.train_parts)
model/              model.save() directory (turicreate.load_model)
model.mlmodel       Turi Create's own Core ML export; once the run is exported, the run's
                    model file, its declared inputs folded in (engine.export_coreml)
turicreate.mlmodel  Turi Create's export as it trained, kept by the export: what this side
                    steps for predictions and metrics (canonical units)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.atomic import write_bytes_atomic

# The run's metric keys, as the torch engine names them.
METRIC_PARTS = {"train": "train", "valid": "validation", "test": "test"}
PART_METRICS = "part_metrics.json"
SUMMARY = "summary.json"  # the runner's summary of a training run
TRAINED_MLMODEL = "turicreate.mlmodel"  # Turi Create's export, kept unfolded by the export


@dataclass(frozen=True, eq=False)
class TrainResult:
    out_dir: Path
    summary: dict[str, Any]  # summary.json
    iterations: list[dict[str, Any]] = field(default_factory=list)  # as given to on_iteration

    def path(self, name: str) -> Path:
        """A file named in summary['files'] ('model', 'mlmodel', 'summary')."""
        return self.out_dir / self.summary["files"][name]

    @property
    def classes(self) -> list[str]:
        return list(self.summary["classes"])

    @property
    def versions(self) -> dict[str, str | None]:
        return dict(self.summary["versions"])

    @property
    def model_dir(self) -> Path:
        return self.path("model")

    @property
    def mlmodel_path(self) -> Path:
        """The network as it trained (canonical units): kept apart once the export has folded
        the run's declared inputs into the runner's file."""
        kept = self.out_dir / TRAINED_MLMODEL
        return kept if kept.is_file() else self.path("mlmodel")

    @property
    def parts(self) -> list[str]:
        """The parts that had rows, in train / valid / test order."""
        return [part for part in METRIC_PARTS if part in self.summary["parts"]]

    def metrics(self) -> dict[str, dict[str, Any]]:
        """motionlab's metrics (workers.metrics) per part: 'train', 'validation', 'test'."""
        return json.loads((self.out_dir / PART_METRICS).read_text())

    def write_metrics(self, metrics: dict[str, dict[str, Any]]) -> None:
        write_bytes_atomic(self.out_dir / PART_METRICS, json.dumps(metrics).encode())

    def artifacts(self, relative_to: Path) -> dict[str, str]:
        """Artifact name → path relative to `relative_to` (e.g. the run directory)."""
        files = {name: self.path(name) for name in ("model", "mlmodel", "summary")}
        files["part_metrics"] = self.out_dir / PART_METRICS
        return {name: str(path.relative_to(relative_to)) for name, path in files.items()}
