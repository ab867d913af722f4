"""What a Turi Create training run leaves in its output directory, read from this side.

The names do not clash with the worker's own (result.json, metrics.json, error.json), so the
output directory can be the run directory itself.

summary.json                      the runner's final summary (also its 'done' line)
params.json                       the parameters it was given (runner_client.train writes it)
probabilities_<part>.csv          per-row probabilities of train / valid / test (exchange.py)
tc_evaluation.json                Turi Create's own evaluate() per part, for reference
windows_<part>_first_session.json per-window probabilities of the test part's first session
                                  (the train part's when there is no test part)
model/                            model.save() directory (turicreate.load_model)
model.mlmodel                     Turi Create's own Core ML export
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from workers.engines.turicreate.exchange import Probabilities, read_probabilities_csv
from workers.metrics import classification_metrics

# The run's metric keys, as the torch engine names them.
METRIC_PARTS = {"train": "train", "valid": "validation", "test": "test"}


@dataclass(frozen=True, eq=False)
class TrainResult:
    out_dir: Path
    summary: dict[str, Any]  # summary.json
    iterations: list[dict[str, Any]] = field(default_factory=list)  # as given to on_iteration

    def path(self, name: str) -> Path:
        """A file named in summary['files'] ('model', 'mlmodel', 'tc_evaluation', …)."""
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
        return self.path("mlmodel")

    @property
    def parts(self) -> list[str]:
        """The parts that had rows, in train / valid / test order."""
        return list(self.summary["files"]["probabilities"])

    def probabilities(self, part: str) -> Probabilities:
        return read_probabilities_csv(self.out_dir / self.summary["files"]["probabilities"][part])

    def tc_evaluation(self) -> dict[str, dict[str, Any]]:
        """Turi Create's evaluate() per part (roc_curve left out)."""
        return json.loads(self.path("tc_evaluation").read_text())

    @cached_property
    def first_session_windows(self) -> dict[str, Any]:
        """Per-window output of one session: part, session_id, rows, classes, probabilities."""
        windows = json.loads(self.path("first_session_windows").read_text())
        windows["probabilities"] = np.asarray(windows["probabilities"], dtype=np.float64)
        return windows

    def metrics(self) -> dict[str, dict[str, Any]]:
        """motionlab's metrics (workers.metrics) per part: 'train', 'validation', 'test'."""
        return {METRIC_PARTS[part]: self.part_metrics(part) for part in self.parts}

    def part_metrics(self, part: str) -> dict[str, Any]:
        """motionlab's metrics of one part ('train', 'valid', 'test') from its probabilities."""
        data = self.probabilities(part)
        if data.targets is None:
            raise ValueError(f"the runner's {part!r} probabilities carry no labels")
        return classification_metrics(data.targets, data.probabilities, data.classes)

    def artifacts(self, relative_to: Path) -> dict[str, str]:
        """Artifact name → path relative to `relative_to` (e.g. the run directory)."""
        names = ("model", "mlmodel", "tc_evaluation", "summary")
        return {name: str(self.path(name).relative_to(relative_to)) for name in names}
