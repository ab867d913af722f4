"""The real Turi Create 6.4.1 engine (Python 3.8 child process). Wired up in issue 7."""

from __future__ import annotations

from workers.engines.registry import EngineStatus, RunContext, RunResult


class TuriCreateEngine:
    name = "turicreate"

    def status(self) -> EngineStatus:
        return EngineStatus(
            self.name,
            False,
            None,
            None,
            "the Turi Create engine is not wired into runs yet",
        )

    def run(self, context: RunContext) -> RunResult:
        raise RuntimeError(self.status().detail)
