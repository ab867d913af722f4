"""Training engines behind one small interface, and what this server has available."""

from __future__ import annotations

import importlib.metadata
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from core.params import RunParams
from workers.motion_data import MotionData


@dataclass
class RunContext:
    """Everything an engine needs to execute one run."""

    run_id: str
    params: RunParams  # the run's frozen parameters
    parts: dict[str, MotionData]  # 'train' always; 'valid' / 'test' when the split made them
    run_dir: Path
    on_iteration: Callable[[dict[str, Any]], None]
    should_stop: Callable[[], bool]


@dataclass
class RunResult:
    metrics: dict[str, dict[str, Any]]  # part → the full metric set
    versions: dict[str, str]
    artifacts: dict[str, str] = field(default_factory=dict)  # name → file name in run_dir


@dataclass(frozen=True)
class EngineStatus:
    name: str
    available: bool
    version: str | None
    device: str | None
    detail: str  # how to enable it, when not available


class Engine(Protocol):
    name: str

    def status(self) -> EngineStatus: ...

    def run(self, context: RunContext) -> RunResult: ...


def base_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "motionlab": importlib.metadata.version("motionlab"),
        "numpy": importlib.metadata.version("numpy"),
    }


def engines() -> dict[str, Engine]:
    from workers.engines.torch_engine import TorchEngine
    from workers.engines.turicreate_engine import TuriCreateEngine

    return {engine.name: engine for engine in (TorchEngine(), TuriCreateEngine())}


def get_engine(name: str) -> Engine:
    return engines()[name]
