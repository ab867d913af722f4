"""Sessions with thousands of feature columns, and the run requests that resolve them: the
shape that once made feature resolution quadratic (tests/service/runs/test_run_validation.py,
tests/benchmarks/bench_wide_runs.py)."""

from __future__ import annotations

CSV = {"Content-Type": "text/csv"}


def wide_feature_names(count: int) -> list[str]:
    return [f"f{i}" for i in range(count)]


def wide_csv(names: list[str], sessions: int = 10) -> str:
    """`sessions` sessions of two rows each, of two activities, every feature 1."""
    values = ",".join("1" * len(names))
    rows = [f"s{i},{'ab'[i % 2]},{values}" for i in range(sessions) for _ in range(2)]
    return "sessionId,activity," + ",".join(names) + "\n" + "\n".join(rows) + "\n"


def wide_run_requests(names: list[str]) -> list[dict]:
    """Every feature (by default), all named, and one unknown name (a 422)."""
    return [{}, {"features": names}, {"features": [*names[:-1], "nope"]}]
