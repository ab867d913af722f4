"""Migrations run on databases that hold data: rows written at the first revision."""

from __future__ import annotations

import json
import sqlite3

import pytest
from sqlalchemy import text

from core.db import make_engine
from core.migrate import upgrade

pytestmark = pytest.mark.integration


def test_existing_runs_get_their_session_counts(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001")  # the first schema: every later step runs on these rows
    # Plain sqlite3, foreign keys off: the rows the step reads, without the blobs they name.
    with sqlite3.connect(tmp_path / "old.db") as connection:
        for run_id in ("r1", "r2"):
            connection.execute(
                "INSERT INTO runs (id, experiment, engine, status, params, data_fingerprint, "
                "attempts, cancel_requested, created_at) VALUES (?, 'e', 'torch', "
                "'succeeded', '{}', 'f', 1, 0, '2026-11-30 00:00:00')",
                (run_id,),
            )
        parts = ["train"] * 3 + ["test"] * 2
        for position, part in enumerate(parts):
            connection.execute(
                "INSERT INTO run_sessions (run_id, position, session_id, blob_sha256, label, "
                "part) VALUES ('r1', ?, ?, 'sha', 'walk', ?)",
                (position, f"s{position}", part),
            )
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        counts = dict(connection.execute(text("SELECT id, sessions_per_part FROM runs")).all())
    assert json.loads(counts["r1"]) == {"train": 3, "test": 2}
    assert json.loads(counts["r2"]) == {}  # a run without sessions (none exist today)


def test_upgrading_keeps_every_run_its_sessions_and_progress(tmp_path):
    """Batch migrations rebuild tables on SQLite; the rebuild of `runs` must not cascade."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001")
    with sqlite3.connect(tmp_path / "old.db") as connection:
        connection.execute(
            "INSERT INTO runs (id, experiment, engine, status, params, data_fingerprint, "
            "attempts, cancel_requested, created_at) VALUES ('r1', 'e', 'torch', 'succeeded', "
            "'{}', 'f', 1, 0, '2026-11-30 00:00:00')"
        )
        for position in range(3):
            connection.execute(
                "INSERT INTO run_sessions (run_id, position, session_id, blob_sha256, label, "
                "part) VALUES ('r1', ?, ?, ?, 'walk', 'train')",
                (position, f"s{position}", f"{position:064d}"),
            )
        for iteration in (1, 2):
            connection.execute(
                "INSERT INTO run_progress (run_id, iteration, elapsed_s, created_at) "
                "VALUES ('r1', ?, 0.5, '2026-11-30 00:00:00')",
                (iteration,),
            )
    upgrade(url)
    with sqlite3.connect(tmp_path / "old.db") as connection:
        counted = {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("runs", "run_sessions", "run_progress")
        }
    assert counted == {"runs": 1, "run_sessions": 3, "run_progress": 2}
