"""Every test has exactly one tier, so that `-m unit` is a fast loop and `make test` runs all:

- `unit`: no server, no database, no training beyond a few steps;
- `integration`: a live app (uvicorn in the test process) or a migrated database on SQLite,
  worker processes training runs of a few iterations;
- `system`: PostgreSQL, `motionlab serve` and other commands as processes, real training,
  Chromium, Turi Create, several hosts.

A test's fixtures decide its tier where they prove it (a PostgreSQL database is system, a
migrated home or a live server integration); otherwise its module or the test itself declares
one marker. A declared tier below what the fixtures start is an error, as is none at all.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from _pytest.mark.expression import Expression

TIERS = ("unit", "integration", "system")
SYSTEM_FIXTURES = {"postgres_cluster", "postgres_url", "browser"}
SYSTEM_MARKERS = {"turicreate"}
INTEGRATION_FIXTURES = {
    "settings",
    "database_url",
    "server",
    "api",
    "served",
    "live",
    "s3_endpoint",
}


def implied_tier(item: pytest.Item) -> str | None:
    """The tier that the test's fixtures, markers and database prove, if any."""
    names = set(getattr(item, "fixturenames", ()))
    callspec = getattr(item, "callspec", None)
    on_postgresql = callspec is not None and callspec.params.get("database") == "postgresql"
    markers = {marker.name for marker in item.iter_markers()}
    if on_postgresql or names & SYSTEM_FIXTURES or markers & SYSTEM_MARKERS:
        return "system"
    if names & INTEGRATION_FIXTURES:
        return "integration"
    return None


def declared_tiers(item: pytest.Item) -> set[str]:
    return {marker.name for marker in item.iter_markers() if marker.name in TIERS}


def assign_tier(item: pytest.Item) -> str | None:
    """Give the item its tier marker; the reason it has none, if it cannot have one."""
    declared, implied = declared_tiers(item), implied_tier(item)
    if len(declared) > 1:
        return f"more than one tier ({', '.join(sorted(declared))})"
    if not declared:
        if implied is None:
            return f"no tier: mark it (or its module) with one of {', '.join(TIERS)}"
        item.add_marker(implied)
        return None
    (tier,) = declared
    if implied is not None and TIERS.index(implied) > TIERS.index(tier):
        return f"marked {tier}, but its fixtures make it {implied}: mark it {implied}"
    return None


def assign_tiers(items: list[pytest.Item]) -> None:
    """Every collected test gets its tier; any that cannot fails the collection."""
    problems = [f"{item.nodeid}: {reason}" for item in items if (reason := assign_tier(item))]
    if problems:
        raise pytest.UsageError("tests without exactly one tier:\n" + "\n".join(problems))


def refuse(what: str):
    def refused(*_args, **_kwargs):
        raise AssertionError(f"a unit test {what}: mark it integration (tests/support/tiers.py)")

    return refused


def keep_unit_tests_units(monkeypatch: pytest.MonkeyPatch) -> None:
    """A unit test that starts a server or migrates a database fails (what its fixtures do is
    caught at collection; this catches what its body does)."""
    from alembic import command
    from uvicorn import Server

    from tests.support.servers import LiveServer

    monkeypatch.setattr(LiveServer, "__enter__", refuse("starts a server"))
    monkeypatch.setattr(Server, "run", refuse("starts a server"))
    monkeypatch.setattr(command, "upgrade", refuse("migrates a database"))


def possible_tiers(module: Path) -> tuple[str, ...]:
    """The tiers a test module's tests can have, read without importing it: fixtures imply
    integration and system, but a unit test always says so (`pytest.mark.unit`)."""
    if "mark.unit" in module.read_text(encoding="utf-8"):
        return TIERS
    return ("integration", "system")


def selects_none(markexpr: str, module: Path) -> bool:
    """Would `-m markexpr` deselect every test of `module`, whatever its other markers are?
    Then `make test-fast` need not import it (the contract fuzzing alone builds its cases for
    seconds). Any doubt (a long expression) keeps the module."""
    expression = Expression.compile(markexpr)
    others = sorted(set(re.findall(r"[\w.:+-]+", markexpr)) - {"and", "or", "not", *TIERS})
    if len(others) > 6:
        return False
    for tier, values in itertools.product(
        possible_tiers(module), itertools.product((False, True), repeat=len(others))
    ):
        marked = {tier, *(name for name, on in zip(others, values, strict=True) if on)}
        if expression.evaluate(lambda name, /, marked=marked, **_kwargs: name in marked):
            return False
    return True


def deselected_module(path: Path, config: pytest.Config) -> bool | None:
    """For pytest_ignore_collect: `-m unit` imports no module that holds no unit test."""
    markexpr = config.getoption("markexpr")
    if markexpr and path.suffix == ".py" and path.name.startswith("test_"):
        return selects_none(markexpr, path) or None  # None: pytest's other rules decide
    return None
