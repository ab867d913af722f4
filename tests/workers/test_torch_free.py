"""What needs no torch does not load it: the model's shape, windows and hyper-parameters, live
streams, the Turi Create engine and the table of export formats.

A Turi Create host, an API that only serves downloads or a live stream of a Turi Create run
should not pay torch's second of import time and its memory. The exporters themselves cannot
avoid it: coremltools imports torch whenever it is installed (so workers.exports.coreml,
mlprogram and onnx load it through coremltools, not through our code).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.paths import REPO

pytestmark = pytest.mark.unit

TORCH_FREE = (
    "workers.model",
    "workers.model.shape",
    "workers.model.windows",
    "workers.model.hyperparameters",
    "workers.live",
    "workers.engines.classifier",
    "workers.engines.turicreate.engine",
    "workers.engines.turicreate.model",
    "workers.exports.formats",
    "workers.exports.coreml.interface",
)


def loaded_by(modules: tuple[str, ...], heavy: str = "torch") -> str | None:
    """The first of `modules` whose import loads `heavy`, in one fresh interpreter; None if
    none."""
    script = (
        "import importlib, sys\n"
        f"for name in {list(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        f"    if {heavy!r} in sys.modules:\n"
        "        print(name)\n"
        "        break\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip() or None


def test_engine_neutral_modules_do_not_import_torch():
    assert loaded_by(TORCH_FREE) is None


def test_the_probe_names_the_first_module_that_loads_it():
    """The same probe, for a library that the windows load (NumPy: torch would cost seconds
    more), names the windows and not the shape before them: the test above can fail."""
    modules = ("workers.model.shape", "workers.model.windows", "workers.model.hyperparameters")
    assert loaded_by(modules, heavy="numpy") == "workers.model.windows"
