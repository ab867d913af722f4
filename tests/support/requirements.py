"""One rule for what a test needs from the machine (PostgreSQL, Chromium, Turi Create): without
it the test skips with the reason, unless CI or MOTIONLAB_REQUIRE_<NAME> is set: then it fails,
so that CI never passes by skipping."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def required(name: str) -> bool:
    """Must the tests that need `name` (postgres, chromium, turicreate) run here?"""
    return bool(os.environ.get("CI") or os.environ.get(f"MOTIONLAB_REQUIRE_{name.upper()}"))


def missing(name: str, reason: str) -> NoReturn:
    """Skip for `reason`, or fail where `name` is required."""
    if required(name):
        variable = f"MOTIONLAB_REQUIRE_{name.upper()}"
        pytest.fail(f"{reason} (CI or {variable} requires these tests)", pytrace=False)
    pytest.skip(reason)
