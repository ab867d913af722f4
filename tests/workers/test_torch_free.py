"""What needs no torch does not load it: the model's shape, windows and hyper-parameters, live
streams, the Turi Create engine, the table of export formats, and the engines' adapters (looked
up by processes that never train: the worker watching its runs, the API resolving a recipe).
A worker process loads neither NumPy nor Arrow: its fork server has them (memory, issue #31).

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
    "workers.engines.torch.engine",
    "workers.engines.registry",
)
WORKER = ("workers.worker", "workers.engines.registry", "workers.run_process")


def loaded_by(modules: tuple[str, ...], heavy: str = "torch") -> str | None:
    """The first of `modules` whose import loads `heavy`, in one fresh interpreter; None if
    none."""
    script = (
        "import importlib, sys\n"
        "from workers.engines.registry import engines\n"
        f"for name in {list(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        "    engines()  # every adapter, looked up\n"
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


def test_a_worker_process_loads_neither_numpy_nor_arrow():
    assert loaded_by(WORKER, "numpy") is None
    assert loaded_by(WORKER, "pyarrow") is None


def test_the_library_names_stay_functions_once_their_modules_are_loaded():
    """The torch package's names load lazily; none may be shadowed by a submodule of its name
    (`train` once was: the fork server imports the training module first)."""
    script = (
        "import workers.engines.torch.training, workers.engines.torch.classifier\n"
        "from workers.engines.torch import ActivityClassifier, train\n"
        "assert callable(train) and isinstance(ActivityClassifier, type)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True)
    assert result.returncode == 0, result.stderr.decode()


def test_every_lazily_named_library_name_resolves():
    """Each package's __all__ is what its lazy table can load, and each name loads."""
    import workers.engines.torch as torch_package
    import workers.engines.turicreate as turicreate_package

    for package in (torch_package, turicreate_package):
        assert sorted(package.__all__) == sorted(package._WHERE)
        for name in package.__all__:
            assert getattr(package, name).__name__ == name
