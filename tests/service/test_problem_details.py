"""Every failure answers an RFC 9457 problem (application/problem+json): the framework's own
errors, unexpected failures (no traceback), a full disk (507), and the paging parameters and
bodies that used to reach SQLite or the JSON parser unchecked."""

from __future__ import annotations

import errno
import logging
import socket
import sqlite3
import time

import psycopg
import pytest
from sqlalchemy import event

from tests.support.problems import problem

CSV = {"Content-Type": "text/csv"}
SESSION = "sessionId,activity,x\ns1,walk,1\ns1,walk,2\n"


def test_unknown_route_is_a_404_problem(api):
    body = problem(api.get("/v2/nothing"), 404)
    assert "/v2/nothing" in body["detail"] and body["instance"] == "/v2/nothing"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/v1/runs", "GET, POST"),
        ("POST", "/v1/sessions/s1", "GET, DELETE"),
        ("PATCH", "/v1/models/m/versions", "GET, POST"),
        ("DELETE", "/healthz", "GET"),
    ],
)
def test_wrong_method_is_a_405_problem_with_every_allowed_method(api, method, path, allowed):
    response = api.request(method, path)
    body = problem(response, 405)
    assert response.headers["allow"] == allowed
    assert allowed in body["detail"]


def test_framework_validation_errors_are_problems_with_each_field(api):
    body = problem(api.get("/v1/sessions", params={"limit": 0, "offset": -1}), 422)
    locations = {error["location"] for error in body["errors"]}
    assert locations == {"query.limit", "query.offset"}
    assert "limit" in body["detail"] and "offset" in body["detail"]


@pytest.mark.both_databases
@pytest.mark.parametrize("path", ["/v1/sessions", "/v1/runs"])
def test_an_offset_beyond_sqlite_integers_is_a_422_not_a_500(api, path):
    body = problem(api.get(path, params={"offset": 2**63}), 422)
    assert "offset" in body["detail"]


@pytest.mark.both_databases
@pytest.mark.parametrize(
    ("path", "name"),
    [("/v1/sessions", "subject"), ("/v1/runs", "experiment"), ("/v1/audit", "target")],
)
def test_a_nul_character_in_a_text_filter_is_a_422_not_a_500(api, path, name):
    """PostgreSQL's text cannot hold U+0000: the filters refuse it on every database."""
    body = problem(api.get(path, params={name: "a\x00b"}), 422)
    assert name in body["detail"] and "pattern" in body["detail"]


@pytest.mark.both_databases
def test_a_nul_character_in_a_path_is_a_problem_not_a_500(api, settings):
    """Not found on SQLite; PostgreSQL cannot even search for it: a 422 that says so."""
    response = api.get("/v1/sessions/a%00b")
    if settings.database_url is None:
        problem(response, 404)
    else:
        assert "NUL character" in problem(response, 422)["detail"]


def test_a_json_body_nested_100000_deep_is_a_400(api):
    nested = "[" * 100_000
    for path in ("/v1/runs", "/v1/sessions", "/v1/models/m/versions"):
        response = api.post(path, content=nested, headers={"Content-Type": "application/json"})
        assert "nested too deeply" in problem(response, 400)["detail"], path


def test_malformed_json_for_a_run_is_a_400_with_the_position(api):
    response = api.post("/v1/runs", content='{"a": ', headers={"Content-Type": "application/json"})
    assert "malformed JSON" in problem(response, 400)["detail"]


def test_an_unexpected_failure_is_a_500_problem_without_internals(api, settings):
    assert api.post("/v1/sessions", content=SESSION, headers=CSV).status_code == 201
    for pack in settings.blobs_dir.rglob("*.arrow"):
        pack.write_bytes(b"not a pack")  # damaged on disk: not the client's doing
    response = api.get("/v1/sessions/s1/samples")
    body = problem(response, 500)
    assert "logged" in body["detail"]
    assert str(settings.home) not in response.text and "arrow" not in response.text


def disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.both_databases
def test_a_full_disk_is_a_507_and_stores_nothing(api, settings, monkeypatch):
    # The OS boundary: the object store's writer finds no space.
    monkeypatch.setattr("core.object_store.atomic_path", disk_full)
    body = problem(api.post("/v1/sessions", content=SESSION, headers=CSV), 507)
    assert "disk is full" in body["detail"] and "nothing was changed" in body["detail"]
    assert api.get("/v1/sessions").json()["total"] == 0


@pytest.mark.both_databases
def test_a_delete_on_a_full_database_disk_is_a_507(api, server):
    assert api.post("/v1/sessions", content=SESSION, headers=CSV).status_code == 201
    engine = server.server.config.app.state.engine

    # The driver boundary: SQLite reports SQLITE_FULL, PostgreSQL SQLSTATE 53100, on a write.
    disk_full = (
        sqlite3.OperationalError("database or disk is full")
        if engine.dialect.name == "sqlite"
        else psycopg.errors.DiskFull('could not extend file "base/1/2": No space left on device')
    )

    def full(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("DELETE"):
            raise disk_full

    event.listen(engine, "before_cursor_execute", full)
    try:
        body = problem(api.delete("/v1/sessions/s1"), 507)
    finally:
        event.remove(engine, "before_cursor_execute", full)
    assert "disk is full" in body["detail"]
    assert api.get("/v1/sessions/s1").status_code == 200


def test_a_client_that_disconnects_mid_upload_is_one_info_line(server, caplog):
    caplog.set_level(logging.INFO)
    with socket.create_connection(("127.0.0.1", server.port)) as client:
        client.sendall(
            f"POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n".encode()
            + b"Content-Type: text/csv\r\nContent-Length: 1000000\r\n\r\nsessionId,activity,x\n"
        )
        time.sleep(0.3)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if any("client disconnected" in r.getMessage() for r in caplog.records):
            break
        time.sleep(0.05)
    gone = [r for r in caplog.records if "client disconnected" in r.getMessage()]
    assert len(gone) == 1 and gone[0].levelno == logging.INFO and gone[0].exc_info is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
