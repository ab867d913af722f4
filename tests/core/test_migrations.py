"""Migrations run on databases that hold data: rows written at the first revision, on SQLite
and on PostgreSQL (the other tests' PostgreSQL databases are copies of one migrated when empty).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import JSON, TextClause, text

from core.db import make_engine
from core.migrate import upgrade
from tests.support.homes import DATABASE_KINDS, database_at

CREATED = datetime(2026, 11, 30)


@pytest.fixture(params=DATABASE_KINDS)
def first_revision(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """The URL of a database migrated to the first revision only, on each database."""
    yield from database_at(request, tmp_path, "0001")


def insert(url: str, statement: str, rows: list[dict]) -> None:
    """Rows as an early version wrote them: the first schema has no table of blobs (0004 adds
    one, with a row for every blob that sessions and runs name)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement), rows)
    finally:
        engine.dispose()


def insert_run(url: str, run_id: str) -> None:
    insert(
        url,
        "INSERT INTO runs (id, experiment, engine, status, params, data_fingerprint, attempts, "
        "cancel_requested, created_at) VALUES (:id, 'e', 'torch', 'succeeded', '{}', 'f', 1, "
        ":cancel, :created)",
        [{"id": run_id, "cancel": False, "created": CREATED}],
    )


def insert_run_sessions(url: str, parts: list[str]) -> None:
    insert(
        url,
        "INSERT INTO run_sessions (run_id, position, session_id, blob_sha256, label, part) "
        "VALUES ('r1', :position, :session, :sha, 'walk', :part)",
        [
            {"position": i, "session": f"s{i}", "sha": f"{i:064d}", "part": part}
            for i, part in enumerate(parts)
        ],
    )


def select(url: str, query: TextClause) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(query).all())
    finally:
        engine.dispose()


def test_existing_runs_get_their_session_counts(first_revision):
    url = first_revision  # every later step runs on these rows
    insert_run(url, "r1")
    insert_run(url, "r2")
    insert_run_sessions(url, ["train"] * 3 + ["test"] * 2)
    upgrade(url)
    query = text("SELECT id, sessions_per_part FROM runs").columns(sessions_per_part=JSON)
    counts = dict(select(url, query))
    assert counts["r1"] == {"train": 3, "test": 2}
    assert counts["r2"] == {}  # a run without sessions (none exist today)


def test_upgrading_keeps_every_run_its_sessions_and_progress(first_revision):
    """Batch migrations rebuild tables on SQLite; the rebuild of `runs` must not cascade."""
    url = first_revision
    insert_run(url, "r1")
    insert_run_sessions(url, ["train"] * 3)
    insert(
        url,
        "INSERT INTO run_progress (run_id, iteration, elapsed_s, created_at) "
        "VALUES ('r1', :iteration, 0.5, :created)",
        [{"iteration": i, "created": CREATED} for i in (1, 2)],
    )
    upgrade(url)
    counted = {
        table: select(url, text(f"SELECT count(*) FROM {table}"))[0][0]
        for table in ("runs", "run_sessions", "run_progress")
    }
    assert counted == {"runs": 1, "run_sessions": 3, "run_progress": 2}
