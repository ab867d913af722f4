"""The real Turi Create 6.4.1 as a run executor (its Python 3.8 runner as a child process)."""

from __future__ import annotations

from workers.engines.registry import EngineStatus, RunContext, RunResult, base_versions
from workers.engines.turicreate import TrainParams, availability, train_parts

ENABLE_HINT = (
    "create its Python 3.8 environment with `make turicreate-env` (needs a Python 3.8: "
    "MOTIONLAB_TURICREATE_PYTHON, python3.8 on PATH, or pyenv), or point "
    "MOTIONLAB_TURICREATE_VENV at one"
)


class TuriCreateEngine:
    name = "turicreate"

    def status(self) -> EngineStatus:
        found = availability()
        detail = "Turi Create 6.4.1 in its own Python 3.8 environment (CPU)"
        if not found.available:
            detail = f"{found.reason}; {ENABLE_HINT}"
        return EngineStatus(
            self.name, found.available, found.version, "cpu" if found.available else None, detail
        )

    def run(self, context: RunContext) -> RunResult:
        result = train_parts(
            parts=context.parts,
            params=TrainParams.from_run_params(context.params),
            out_dir=context.run_dir,
            on_iteration=context.on_iteration,
            should_stop=context.should_stop,
        )
        engine_versions = {
            ("python_turicreate" if key == "python" else key): value
            for key, value in result.versions.items()
            if value is not None
        }
        return RunResult(
            metrics=result.metrics(),
            versions={**base_versions(), **engine_versions},
            artifacts=result.artifacts(context.run_dir),
        )
