"""The schema comes from Alembic migrations, matches the models, and SQLite is tuned."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from core.db import make_engine
from core.migrate import check, head_revision, upgrade

pytestmark = pytest.mark.integration


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
    assert api.get("/readyz").json() == {"status": "ready", "schema_revision": head_revision()}
    assert api.get("/healthz").status_code == 200
    assert api.get("/docs").status_code == 200


def test_metrics_endpoint_counts_requests_and_stored_sessions(api):
    api.post(
        "/v1/sessions",
        content="sessionId,activity,x\na,walk,1\na,walk,2\n",
        headers={"Content-Type": "text/csv"},
    )
    api.get("/v1/sessions/missing")
    text = api.get("/metrics").text
    assert (
        'motionlab_http_requests_total{method="POST",route="/v1/sessions",status="201"} 1' in text
    )
    assert 'route="/v1/sessions/{session_id}",status="404"} 1' in text
    assert "motionlab_sessions 1\n" in text and "motionlab_session_rows 2\n" in text
    assert 'motionlab_runs{status="queued"} 0' in text
