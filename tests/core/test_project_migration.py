"""Revision 0012 moves everything into the `default` project, and makes session ids and model
names unique per project: on rows written at 0011, on SQLite and on PostgreSQL; and on a store
written by motionlab at a1dc618 (tests/data/store_0011.tar.gz: six tiny sessions, one deleted;
a succeeded torch run registered as GestureClassifier v1 with the alias production; a read
token; their audit events), which keeps answering every URL as before."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from core.db import make_engine, make_session_factory, unit_of_work
from core.migrate import upgrade
from core.settings import Settings
from service.auth import Scope
from service.tokens.service import create_token
from tests.support.homes import DATABASE_KINDS, database_at
from tests.support.paths import REPO
from tests.support.servers import LiveServer, serve_environment

STORE_0011 = REPO / "tests" / "data" / "store_0011.tar.gz"
CREATED = datetime(2026, 12, 1)
SHA = "a" * 64
OWNED = ("sessions", "runs", "models", "model_versions", "model_aliases", "audit_events")
ROWS_AT_0011 = [
    "INSERT INTO packs (id, size_bytes, created_at) VALUES ('p1', 10, :t)",
    "INSERT INTO blobs (sha256, pack_id, created_at) VALUES (:sha, 'p1', :t)",
    "INSERT INTO sessions (id, activity, features, channels, has_timestamp, row_count, "
    "blob_sha256, created_at) VALUES ('rec-0001', 'walk', '[]', '[]', false, 3, :sha, :t)",
    "INSERT INTO runs (id, experiment, engine, status, params, data_fingerprint, attempts, "
    "cancel_requested, sessions_per_part, created_at) VALUES ('r1', 'e', 'torch', 'succeeded', "
    "'{}', 'f', 1, false, '{}', :t)",
    "INSERT INTO models (name, created_at) VALUES ('GestureClassifier', :t)",
    "INSERT INTO model_versions (model_name, version, run_id, created_at) "
    "VALUES ('GestureClassifier', 1, 'r1', :t)",
    "INSERT INTO model_aliases (model_name, alias, version, updated_at) "
    "VALUES ('GestureClassifier', 'production', 1, :t)",
    "INSERT INTO audit_events (created_at, actor, action, target) "
    "VALUES (:t, 'cli', 'alias.set', 'models/GestureClassifier')",
]
# The same names again, in another project: allowed after 0012.
IN_FITNESS = [
    "INSERT INTO projects (name, created_at) VALUES ('fitness', :t)",
    "INSERT INTO sessions (project, id, activity, features, channels, has_timestamp, row_count, "
    "blob_sha256, created_at) VALUES ('fitness', 'rec-0001', 'squat', '[]', '[]', false, 3, "
    ":sha, :t)",
    "INSERT INTO models (project, name, created_at) VALUES ('fitness', 'GestureClassifier', :t)",
    "INSERT INTO model_versions (project, model_name, version, run_id, created_at) "
    "VALUES ('fitness', 'GestureClassifier', 1, 'r1', :t)",
]


@pytest.fixture(params=DATABASE_KINDS)
def at_0011(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """The URL of a database at revision 0011 holding a session, a run and a model."""
    for url in database_at(request, tmp_path, "0011"):
        execute(url, ROWS_AT_0011)
        yield url


def execute(url: str, statements: list[str]) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement), {"t": CREATED, "sha": SHA})
    finally:
        engine.dispose()


def scalars(url: str, query: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(query)).scalars())
    finally:
        engine.dispose()


def test_existing_rows_move_into_the_default_project_and_names_become_per_project(at_0011):
    upgrade(at_0011)
    assert scalars(at_0011, "SELECT name FROM projects") == ["default"]
    for table in OWNED:
        assert scalars(at_0011, f"SELECT DISTINCT project FROM {table}") == ["default"], table
    execute(at_0011, IN_FITNESS)  # the same session id and model name in another project
    assert scalars(at_0011, "SELECT project FROM sessions ORDER BY project") == [
        "default",
        "fitness",
    ]
    with pytest.raises(IntegrityError):  # still unique within one project
        execute(at_0011, [ROWS_AT_0011[2]])


@pytest.fixture
def migrated_store(tmp_path) -> Settings:
    settings = Settings(home=tmp_path / "home", workers=0)
    with tarfile.open(STORE_0011) as archive:
        archive.extractall(settings.home, filter="data")
    subprocess.run(
        [sys.executable, "-m", "service.cli", "migrate"],
        env=serve_environment(settings.home, 0),
        check=True,
    )
    return settings


@pytest.mark.system  # `motionlab migrate` as a process
def test_a_store_of_today_keeps_every_url_for_the_default_project(migrated_store):
    factory = make_session_factory(make_engine(migrated_store.resolved_database_url))
    with unit_of_work(factory) as db:
        [old_token_projects] = db.scalars(text("SELECT projects FROM api_tokens")).all()
        _, admin = create_token(db, name="admin", scopes=frozenset({Scope.ADMIN}))
    assert old_token_projects is None  # today's tokens: every project
    model_file = next((migrated_store.home / "runs").glob("*/model.mlmodel")).read_bytes()
    auth = {"Authorization": f"Bearer {admin}"}
    with (
        LiveServer(migrated_store) as live,
        httpx.Client(base_url=live.url, headers=auth, timeout=60) as api,
    ):
        ci_url = "/v1/models/GestureClassifier/production/model.mlmodel"
        assert api.get(ci_url).content == model_file
        assert api.get("/v1/projects/default" + ci_url.removeprefix("/v1")).content == model_file
        sessions = [s["id"] for s in api.get("/v1/sessions").json()["items"]]
        assert sessions == ["t000", "t002", "t003", "t004", "t005"]
        actions = {e["action"] for e in api.get("/v1/audit").json()["items"]}
        assert {"version.register", "alias.set", "session.delete"} <= actions
        assert api.post("/v1/projects", json={"name": "fitness"}).status_code == 201
        assert api.get("/v1/projects/fitness/sessions").json()["total"] == 0
        assert api.get("/v1/projects/fitness/models").json() == []
        assert api.get("/v1/projects/fitness" + ci_url.removeprefix("/v1")).status_code == 404
