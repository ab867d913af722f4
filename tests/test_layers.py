"""The dependency direction service → workers → core holds, and the check really guards it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO

pytestmark = pytest.mark.unit

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    """import-linter over the packages of `tree`, with the contracts of its pyproject.toml."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": f"{tree}:{tree / 'client'}"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_of_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    for package in ("core", "service", "workers", "client/motionlab_client"):
        shutil.copytree(
            REPO / package, tree / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(REPO / "pyproject.toml", tree)
    return tree


def test_the_layers_hold():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "reverse_import"),
    [
        ("core/runs.py", "import workers.metrics"),  # core must not know the workers
        ("workers/metrics.py", "from service.errors import NotFound"),  # nor workers the API
        ("workers/worker.py", "import fastapi"),  # nor the ML side the web framework
        ("client/motionlab_client/run.py", "import numpy"),  # the client needs only httpx
        ("client/motionlab_client/client.py", "from service.errors import NotFound"),  # no server
        ("client/motionlab_client/cli.py", "import service.cli"),  # not even its CLI
        ("workers/model/windows.py", "import torch"),  # the model's shape needs no engine
        ("workers/exports/onnx.py", "from workers.engines import registry"),  # nor do exports
        ("workers/exports/coreml/stream.py", "import tests.support.oracles"),  # nor the tests
    ],
)
def test_a_reverse_import_fails_the_check(tmp_path, module, reverse_import):
    tree = copy_of_tree(tmp_path)
    target = tree / module
    # Inside a function, where the old code hid its reverse imports: the check still sees it.
    target.write_text(target.read_text() + f"\n\ndef _sneaky():\n    {reverse_import}\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout


def test_the_cli_module_stays_light():
    """Each run's child process imports the main module again (multiprocessing's main fix-up):
    `service.cli` must not pull in the web stack, or every run starts ~0.3 s later."""
    heavy = "{'fastapi', 'uvicorn', 'alembic', 'httpx'}"  # httpx: the user commands' client
    script = f"import sys, service.cli; print(sorted({heavy} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_commands_parser_leaves_the_web_stack_and_the_database_alone():
    """Every `motionlab` command builds the whole parser, `upload` and `runs` too: the token
    commands' parser loading FastAPI, SQLAlchemy and Alembic cost each user command ~0.8 s of
    CPU (1.1 s, now 0.35 s for `motionlab runs --help`)."""
    heavy = "{'fastapi', 'uvicorn', 'alembic', 'sqlalchemy'}"
    script = (
        "import sys, service.cli; service.cli.build_parser(); "
        f"print(sorted({heavy} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
