"""Data steps of migrations, run on a database written by the revision before them."""

from __future__ import annotations

import json
import sqlite3

from sqlalchemy import text

from core.db import make_engine
from core.migrate import _scripts, upgrade


def test_existing_runs_get_their_session_counts(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, _scripts().get_revision("0006").down_revision)
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
