"""Where the repository and its bundled data are."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BASICMOTIONS_CSV = REPO / "data" / "basicmotions.csv"
BENCHMARKS = REPO / "tests" / "benchmarks"  # `make bench`: figures, not tests (no tiers)
