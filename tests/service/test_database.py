"""The schema comes from Alembic migrations, matches the models, and SQLite is tuned."""

from __future__ import annotations

from sqlalchemy import inspect, text

from service.db import make_engine
from service.migrate import check, upgrade


def test_models_and_migrations_do_not_drift(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    check(url)  # raises if autogenerate would emit any operation
    tables = set(inspect(make_engine(url)).get_table_names())
    assert {"sessions", "runs", "run_sessions", "run_progress", "models"} <= tables


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_readyz_reports_the_migrated_revision(api):
    assert api.get("/readyz").json() == {"status": "ready", "schema_revision": "0001"}
    assert api.get("/healthz").status_code == 200
    assert api.get("/docs").status_code == 200
