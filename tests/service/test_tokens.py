"""Tokens as an operator and an admin use them: created once, hashed, scoped, revoked at once."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text
from starlette.testclient import TestClient

from core.db import make_engine
from service.app import create_app
from tests.support.cli import motionlab as run_motionlab
from tests.support.runs import upload_tiny

CSV = {"Content-Type": "text/csv"}
ONE_SESSION = "x,y\n1,2\n3,4\n"


def motionlab(settings, *args: str) -> subprocess.CompletedProcess:
    """The command run on `settings`' home (and its database, when not the home's SQLite)."""
    database = {"MOTIONLAB_DATABASE_URL": settings.database_url} if settings.database_url else {}
    return run_motionlab(*args, MOTIONLAB_HOME=str(settings.home), **database)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.system
@pytest.mark.both_databases
def test_cli_tokens_lock_the_api_and_carry_their_scopes(api, settings):
    assert api.get("/v1/sessions").status_code == 200  # no token exists yet: local use
    created = motionlab(settings, "token", "create", "--name", "ana-iphone", "--scope", "upload")
    assert created.returncode == 0, created.stderr
    phone = created.stdout.strip()
    assert phone.startswith("mlt_") and "shown only now" in created.stderr
    admin = motionlab(settings, "token", "create", "--name", "root", "--scope", "admin")
    admin_token = admin.stdout.strip()

    refused = api.get("/v1/sessions")
    assert refused.status_code == 401 and "Authorization: Bearer" in refused.json()["detail"]
    uploaded = api.post(
        "/v1/sessions?session_id=rec-1&activity=wave",
        content=ONE_SESSION,
        headers={**CSV, **bearer(phone)},
    )
    assert uploaded.status_code == 201, uploaded.text
    forbidden = api.get("/v1/sessions", headers=bearer(phone))
    assert forbidden.status_code == 403 and "needs 'read'" in forbidden.json()["detail"]
    assert api.get("/v1/sessions", headers=bearer(admin_token)).json()["total"] == 1

    # stored hashed: the database never holds the token itself
    with make_engine(settings.resolved_database_url).connect() as database:
        hashes = {row[0] for row in database.execute(text("SELECT token_sha256 FROM api_tokens"))}
        rows = database.execute(text("SELECT * FROM api_tokens")).all()
    assert hashlib.sha256(phone.encode()).hexdigest() in hashes
    assert not any(phone in str(row) for row in rows)

    listed = motionlab(settings, "token", "list")
    assert (
        "ana-iphone" in listed.stdout and "upload" in listed.stdout and phone not in listed.stdout
    )
    token_id = phone.split("_")[1]
    assert motionlab(settings, "token", "revoke", token_id).returncode == 0
    assert (
        api.post("/v1/sessions", content=ONE_SESSION, headers={**CSV, **bearer(phone)}).status_code
        == 401
    )
    assert "ana-iphone" not in motionlab(settings, "token", "list").stdout
    assert "ana-iphone" in motionlab(settings, "token", "list", "--all").stdout
    unknown = motionlab(settings, "token", "revoke", "nope")
    assert unknown.returncode != 0 and "token list" in unknown.stderr


@pytest.mark.system
def test_cli_refuses_unknown_scopes_and_bad_names(settings):
    bad_scope = motionlab(settings, "token", "create", "--name", "x", "--scope", "root")
    assert bad_scope.returncode != 0 and "invalid choice" in bad_scope.stderr
    bad_name = motionlab(settings, "token", "create", "--name", "a b", "--scope", "read")
    assert bad_name.returncode != 0 and "invalid token" in bad_name.stderr


@pytest.mark.system  # `motionlab token` as a process
@pytest.mark.parametrize("action", [("create", "--name", "ci", "--scope", "read"), ("list",)])
def test_token_commands_outside_a_migrated_home_say_to_migrate(tmp_path, action):
    """Run where no home was migrated (the default home is var/ under the current directory):
    exit 2 with what to do, no traceback, and no database file left behind."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MOTIONLAB_")}
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "token", *action],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "run `motionlab migrate`" in result.stderr and "set MOTIONLAB_HOME" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_admin_manages_tokens_over_the_api(api):
    root = api.post("/v1/tokens", json={"name": "root", "scopes": ["admin"]})
    assert root.status_code == 201, root.text  # the first token: made locally, without one
    admin = bearer(root.json()["token"])
    ci = api.post("/v1/tokens", json={"name": "ci", "scopes": ["read"]}, headers=admin).json()
    assert ci["scopes"] == ["read"] and ci["created_by"] == "root"
    listed = api.get("/v1/tokens", headers=admin).json()
    assert [t["name"] for t in listed] == ["root", "ci"] and all("token" not in t for t in listed)
    assert api.get("/v1/tokens", headers=bearer(ci["token"])).status_code == 403
    assert api.get("/v1/stats", headers=bearer(ci["token"])).status_code == 200

    assert api.delete(f"/v1/tokens/{ci['id']}", headers=admin).status_code == 204
    assert api.get("/v1/stats", headers=bearer(ci["token"])).status_code == 401
    revoked = api.get("/v1/tokens?include_revoked=true", headers=admin).json()
    assert revoked[1]["revoked_by"] == "root" and revoked[1]["revoked_at"]
    assert api.delete("/v1/tokens/nope", headers=admin).status_code == 404
    assert (
        api.post("/v1/tokens", json={"name": "x", "scopes": ["root"]}, headers=admin).status_code
        == 422
    )

    events = api.get("/v1/audit", headers=admin).json()["items"]
    assert [(e["action"], e["actor"]) for e in events] == [
        ("token.revoke", "root"),
        ("token.create", "root"),
        ("token.create", "local"),
    ]


def test_environment_tokens_for_containers(settings, tmp_path):
    secrets_file = tmp_path / "tokens"
    secrets_file.write_text("# name:scopes:token\nphone:upload:" + "p" * 32 + "\n")
    settings = settings.model_copy(
        update={"tokens": SecretStr("ci:read+train:" + "c" * 32), "tokens_file": secrets_file}
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/v1/sessions").status_code == 401
        assert client.get("/v1/sessions", headers=bearer("c" * 32)).status_code == 200
        upload = client.post(
            "/v1/sessions?session_id=a&activity=b",
            content=ONE_SESSION,
            headers={**CSV, **bearer("p" * 32)},
        )
        assert upload.status_code == 201
        assert client.get("/v1/sessions", headers=bearer("p" * 32)).status_code == 403


def test_a_short_environment_token_is_refused_at_start(settings):
    with pytest.raises(ValueError, match="at least 24 characters"):
        create_app(settings.model_copy(update={"tokens": SecretStr("ci:read:short")}))


@pytest.mark.both_databases
def test_the_audit_log_names_who_deleted_and_replaced_sessions(api, server):
    token = api.post("/v1/tokens", json={"name": "ops", "scopes": ["admin"]}).json()["token"]
    with httpx.Client(base_url=server.url, headers=bearer(token)) as ops:
        upload_tiny(ops)
        upload_tiny(ops, seed=1, replace=True)  # different values under the same ids
        assert ops.delete("/v1/sessions/t000").status_code == 204
        events = ops.get("/v1/audit", params={"target": "sessions/t000"}).json()
    assert [(e["action"], e["actor"]) for e in events["items"]] == [
        ("session.delete", "ops"),
        ("session.replace", "ops"),
    ]
    assert all(e["token_id"] == token.split("_")[1] and e["created_at"] for e in events["items"])


@pytest.mark.system  # `motionlab token create` as a process
def test_cli_tokens_limited_to_a_project(api, settings):
    assert api.post("/v1/projects", json={"name": "fitness"}).status_code == 201
    unknown = motionlab(
        settings, "token", "create", "--name", "x", "--scope", "read", "--project", "nowhere"
    )
    assert unknown.returncode != 0 and "nowhere" in unknown.stderr
    created = motionlab(
        settings, "token", "create", "--name", "fit", "--scope", "upload", "--project", "fitness"
    )
    assert created.returncode == 0 and "projects=fitness" in created.stderr, created.stderr
    phone = bearer(created.stdout.strip())
    url = "/v1/projects/fitness/sessions?session_id=rec-1&activity=squat"
    assert api.post(url, content=ONE_SESSION, headers={**CSV, **phone}).status_code == 201
    elsewhere = api.post(
        url.replace("/projects/fitness", ""), content=ONE_SESSION, headers=CSV | phone
    )
    assert elsewhere.status_code == 404 and "'default'" in elsewhere.json()["detail"]
