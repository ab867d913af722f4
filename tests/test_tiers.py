"""Every test has exactly one tier: collection fails on a test without one, with two, or marked
below what its fixtures start; a unit test cannot start a server or migrate a database."""

from __future__ import annotations

import pytest

from core.migrate import upgrade
from core.settings import Settings
from tests.support.servers import LiveServer
from tests.support.tiers import selects_none

pytestmark = pytest.mark.unit

CONFTEST = """
import pytest
from tests.support.tiers import assign_tiers

def pytest_collection_modifyitems(items):
    assign_tiers(items)

@pytest.fixture
def settings():
    return "a migrated home"

@pytest.fixture
def postgres_cluster():
    return "a cluster"
"""
INI = """
[pytest]
markers =
    unit: u
    integration: i
    system: s
    turicreate: t
"""


@pytest.fixture
def collect(pytester: pytest.Pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makeini(INI)

    def run(source: str) -> pytest.RunResult:
        pytester.makepyfile(test_example=source)
        return pytester.runpytest_inprocess("--collect-only", "-q", "-m", "unit or system")

    return run


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        pytest.param("def test_x():\n    pass\n", "no tier", id="none"),
        pytest.param(
            "import pytest\npytestmark = pytest.mark.unit\n\n"
            "@pytest.mark.system\ndef test_x():\n    pass\n",
            "more than one tier (system, unit)",
            id="two",
        ),
        pytest.param(
            "import pytest\n\n@pytest.mark.unit\ndef test_x(settings):\n    pass\n",
            "marked unit, but its fixtures make it integration",
            id="below-its-fixtures",
        ),
    ],
)
def test_a_test_without_exactly_its_one_tier_fails_the_collection(collect, source, reason):
    result = collect(source)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*test_example.py::test_x: {reason}*"])


def test_fixtures_and_markers_give_the_tier_they_prove(collect):
    source = (
        "import pytest\n\n"
        "def test_cluster(postgres_cluster):\n    pass\n\n"
        "@pytest.mark.turicreate\ndef test_turi(settings):\n    pass\n\n"
        "def test_home(settings):\n    pass\n\n"
        "@pytest.mark.unit\ndef test_plain():\n    pass\n"
    )
    result = collect(source)
    assert result.ret == pytest.ExitCode.OK
    selected = {line.split("::")[1] for line in result.outlines if "::" in line}
    assert selected == {"test_cluster", "test_turi", "test_plain"}  # test_home: integration


def test_a_unit_test_cannot_start_a_server_or_migrate_a_database(tmp_path):
    settings = Settings(home=tmp_path, workers=0)
    with pytest.raises(AssertionError, match="starts a server"), LiveServer(settings):
        pass
    with pytest.raises(AssertionError, match="migrates a database"):
        upgrade(settings.resolved_database_url)


@pytest.mark.parametrize(
    ("markexpr", "source", "none"),
    [
        ("unit", "def test_x(api):\n    pass\n", True),
        ("unit", "@pytest.mark.unit\ndef test_x():\n    pass\n", False),
        ("unit and not turicreate", "pytestmark = pytest.mark.system\n", True),
        ("not unit", "def test_x(api):\n    pass\n", False),
        ("integration or turicreate", "pytestmark = pytest.mark.unit\n", False),
        ("unit or turicreate", "def test_x(api):\n    pass\n", False),
    ],
)
def test_a_marker_expression_skips_only_modules_it_selects_nothing_from(
    tmp_path, markexpr, source, none
):
    module = tmp_path / "test_example.py"
    module.write_text("import pytest\n\n" + source)
    assert selects_none(markexpr, module) is none


def test_the_unit_tier_does_not_import_a_module_without_unit_tests(pytester: pytest.Pytester):
    pytester.makeconftest(
        CONFTEST + "\nfrom tests.support.tiers import deselected_module\n\n"
        "def pytest_ignore_collect(collection_path, config):\n"
        "    return deselected_module(collection_path, config)\n"
    )
    pytester.makeini(INI)
    pytester.makepyfile(
        test_served="raise ImportError('imported')\n\ndef test_x(settings):\n    pass\n",
        test_plain="import pytest\n\n@pytest.mark.unit\ndef test_y():\n    pass\n",
    )
    result = pytester.runpytest_inprocess("-q", "-m", "unit")
    result.assert_outcomes(passed=1)
    assert pytester.runpytest_inprocess("-q", "-m", "integration").ret != pytest.ExitCode.OK
