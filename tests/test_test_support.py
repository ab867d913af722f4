"""Tests share their helpers through tests/support alone: no test, benchmark or conftest imports
another test module or a conftest, and conftests hold fixtures and hooks only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.paths import REPO

pytestmark = pytest.mark.unit

TESTS = REPO / "tests"
SUPPORT = "tests.support"


def foreign_imports(source: str) -> list[str]:
    """The modules of tests.* other than tests.support that `source` imports, anywhere in it
    (relative imports and `conftest` included)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = ["." * node.level + (node.module or "")]
        else:
            continue
        for name in names:
            from_tests = name == "tests" or name.startswith(("tests.", ".", "conftest"))
            if from_tests and not (name == SUPPORT or name.startswith(SUPPORT + ".")):
                found.append(name)
    return found


def helpers_in_conftest(source: str) -> list[str]:
    """What a conftest defines besides fixtures and pytest hooks (helpers belong in support)."""
    helpers = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            decorators = [ast.unparse(d) for d in getattr(node, "decorator_list", [])]
            fixture = any(d.startswith("pytest.fixture") for d in decorators)
            if not (fixture or node.name.startswith("pytest_")):
                helpers.append(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            name = ast.unparse(node).split("=")[0].split(":")[0].strip()
            if not name.startswith("pytest_"):  # pytest_plugins
                helpers.append(name)
    return helpers


def python_files() -> list[Path]:
    return sorted(path for path in TESTS.rglob("*.py") if "__pycache__" not in path.parts)


def test_tests_and_benchmarks_import_helpers_only_from_tests_support():
    offenders = {
        str(path.relative_to(REPO)): imports
        for path in python_files()
        if (imports := foreign_imports(path.read_text()))
    }
    assert offenders == {}


def test_conftests_hold_fixtures_and_hooks_only():
    offenders = {
        str(path.relative_to(REPO)): helpers
        for path in TESTS.rglob("conftest.py")
        if (helpers := helpers_in_conftest(path.read_text()))
    }
    assert offenders == {}


@pytest.mark.parametrize(
    "statement",
    [
        "from tests.conftest import LiveServer",
        "from tests.service.runs.conftest import start_run",
        "import tests.workers.coreml.test_onnx_export",
        "from .conftest import FAST",
        "from conftest import FAST",
        "def helper():\n    from tests.benchmarks.bench_train import synthetic_sessions",
    ],
)
def test_the_import_check_catches_a_test_importing_another_test_module(statement):
    assert foreign_imports(f"from tests.support.runs import start_run\n{statement}\n")
    assert foreign_imports("from tests.support.runs import start_run\n") == []


def test_the_conftest_check_catches_a_helper():
    source = (
        "import pytest\n\nFAST = 1\n\n\ndef helper():\n    pass\n\n\n"
        "@pytest.fixture\ndef f():\n    pass\n\n\ndef pytest_generate_tests(metafunc):\n    pass\n"
    )
    assert helpers_in_conftest(source) == ["FAST", "helper"]
