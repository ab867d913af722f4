"""Projects keep apart: every project route of the app's route table × a token of the same
project, a token of another project and a token of every project, on SQLite and PostgreSQL,
WebSocket routes included. A token of another project gets the very 404 of a project that
does not exist, whatever the route and whatever is stored there."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.routing import APIWebSocketRoute, iter_route_contexts
from pydantic import SecretStr
from starlette.testclient import TestClient, WebSocketDenialResponse

from core.db import make_engine, make_session_factory, unit_of_work
from core.models import DEFAULT_PROJECT
from core.settings import Settings
from service.app import create_app
from service.auth import PROJECT_PREFIX, Scope
from service.projects.access import unknown_project
from service.projects.service import create_project
from service.tokens.service import create_token
from tests.support.homes import migrated_settings

pytestmark = pytest.mark.both_databases

EVERY_PROJECT = "every-project-admin-" + "x" * 24
SERVER_WIDE = ("/v1/tokens", "/v1/collect-tokens", "/v1/projects")
SESSION = "rec-0001"  # stored in every project, with the project's own activity


@dataclass
class Server:
    client: TestClient
    tokens: dict[str, str]  # project → an admin token limited to it


@pytest.fixture(scope="module")
def server(database, tmp_path_factory, request) -> Iterator[Server]:
    """Projects alpha and beta beside default, an admin token limited to each, one admin
    token of every project (configured, as MOTIONLAB_TOKENS), and session rec-0001 in each."""
    url = None
    if database == "postgresql":
        cluster = request.getfixturevalue("postgres_cluster")
        url = cluster.database_url(cluster.fresh_database())
    settings = migrated_settings(tmp_path_factory.mktemp("projects") / "home", url, workers=0)
    settings = settings.model_copy(update={"tokens": SecretStr(f"all:admin:{EVERY_PROJECT}")})
    tokens = {}
    with unit_of_work(make_session_factory(make_engine(settings.resolved_database_url))) as db:
        for project in ("alpha", "beta"):
            create_project(db, name=project)
        for project in ("alpha", "beta", DEFAULT_PROJECT):
            _, tokens[project] = create_token(
                db, name=f"{project}-admin", scopes=frozenset({Scope.ADMIN}), projects=[project]
            )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        for project in ("alpha", "beta", DEFAULT_PROJECT):
            upload(client, project, activity=f"walk-{project}", token=tokens[project])
        yield Server(client, tokens)


def upload(
    client: TestClient, project: str, *, activity: str, token: str, session: str = SESSION
) -> None:
    body = {"sessions": [{"id": session, "activity": activity, "columns": ["x", "y"]}]}
    body["sessions"][0]["samples"] = [[i, i % 3] for i in range(30)]
    response = client.post(f"{base(project)}/sessions", json=body, headers=bearer(token))
    assert response.status_code == 201, response.text


def base(project: str) -> str:
    return "/v1" if project == DEFAULT_PROJECT else f"/v1/projects/{project}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def project_routes() -> list[tuple[str, str]]:
    """(method or WS, template) of every route a project owns: under /v1 (the default
    project's) and under /v1/projects/{project}, from the app's own route table."""
    with tempfile.TemporaryDirectory() as home:  # the app is built, never served
        app = create_app(Settings(home=Path(home)))
    routes = set()
    for route in iter_route_contexts(app.routes):
        path = route.path
        in_project = path.startswith(PROJECT_PREFIX + "/")
        if not in_project and (not path.startswith("/v1/") or path.startswith(SERVER_WIDE)):
            continue
        if isinstance(route.original_route, APIWebSocketRoute):
            routes.add(("WS", path))
        routes |= {(m, path) for m in route.methods or () if m != "HEAD"}
    return sorted(routes)


def concrete(template: str, project: str) -> str:
    """The template in `project`, with rec-0001 as its session and names that do not exist."""
    path = template.replace(PROJECT_PREFIX, f"/v1/projects/{project}")
    path = path.replace("{session_id}", SESSION)
    return re.sub(r"\{(\w+)\}", lambda m: "1" if m.group(1) == "ref" else f"no-{m.group(1)}", path)


def answer(client: TestClient, method: str, path: str, token: str) -> tuple[int, str]:
    if method != "WS":
        response = client.request(method, path, headers=bearer(token))
        return response.status_code, response.text
    try:
        with client.websocket_connect(path, headers=bearer(token)):
            return 101, ""
    except WebSocketDenialResponse as refusal:
        return refusal.status_code, refusal.text


ROUTES = project_routes()


@pytest.mark.unit
def test_the_matrix_covers_every_kind_of_project_route():
    methods = {method for method, _ in ROUTES}
    assert {"GET", "POST", "PUT", "DELETE", "WS"} <= methods
    templates = {template for _, template in ROUTES}
    for default_route in [t for t in templates if not t.startswith(PROJECT_PREFIX)]:
        assert PROJECT_PREFIX + default_route.removeprefix("/v1") in templates, default_route
    assert PROJECT_PREFIX + "/runs/{run_id}/events" in templates  # SSE
    assert PROJECT_PREFIX + "/models/{name}/{ref}/live" in templates  # WebSocket


@pytest.mark.parametrize(("method", "template"), ROUTES, ids=str)
def test_isolation_matrix(server, method, template):
    explicit = template.startswith(PROJECT_PREFIX)
    project, other = ("alpha", "beta") if explicit else (DEFAULT_PROJECT, "alpha")
    path = concrete(template, project)
    missing = unknown_project(project).detail
    for caller, token in (("other", server.tokens[other]), ("same", server.tokens[project])):
        status, body = answer(server.client, method, path, token)
        if caller == "other":  # exactly what a project that does not exist answers
            assert status == 404 and missing in body, (caller, status, body)
            if explicit:
                ghost = answer(server.client, method, concrete(template, "ghost"), EVERY_PROJECT)
                assert ghost == (404, body.replace("alpha", "ghost")), ghost
            assert "walk-" not in body
        else:
            assert status not in (401, 403) and status < 500, (caller, status, body)
            assert missing not in body, (caller, body)
    status, body = answer(server.client, method, path, EVERY_PROJECT)
    assert status not in (401, 403) and status < 500 and missing not in body, (status, body)


def test_the_same_session_id_holds_each_project_s_own_data(server):
    """Uploaded in every project under one id (and one content: one shared blob), deleted in
    one: the others keep their own rows and samples."""
    client, tokens = server.client, server.tokens
    projects = ("alpha", "beta", DEFAULT_PROJECT)
    for project in projects:
        upload(client, project, activity=f"run-{project}", token=tokens[project], session="twin")
    for project in projects:
        auth = bearer(tokens[project])
        session = client.get(f"{base(project)}/sessions/twin", headers=auth).json()
        assert session["activity"] == f"run-{project}"
        labels = client.get(f"{base(project)}/labels", headers=auth).json()["activities"]
        assert [label for label in labels if label.startswith("run-")] == [f"run-{project}"]
        stats = client.get(f"{base(project)}/stats", headers=auth).json()
        assert set(stats["by_activity"]) <= {f"run-{project}", f"walk-{project}"}, stats
    alpha = bearer(tokens["alpha"])
    assert client.delete("/v1/projects/alpha/sessions/twin", headers=alpha).status_code == 204
    assert client.get("/v1/projects/alpha/sessions/twin", headers=alpha).status_code == 404
    for project in ("beta", DEFAULT_PROJECT):
        auth = bearer(tokens[project])
        samples = client.get(f"{base(project)}/sessions/twin/samples", headers=auth)
        assert samples.status_code == 200, samples.text
        assert twin_deletions(client, project, auth) == 0  # alpha's audit trail is alpha's
    assert twin_deletions(client, "alpha", alpha) == 1


def twin_deletions(client: TestClient, project: str, auth: dict[str, str]) -> int:
    events = client.get(f"{base(project)}/audit", headers=auth).json()["items"]
    return sum(e["action"] == "session.delete" and e["target"] == "sessions/twin" for e in events)


def test_a_token_of_some_projects_cannot_manage_tokens_or_projects(server):
    client = server.client
    alpha = bearer(server.tokens["alpha"])
    for method, path in (("GET", "/v1/tokens"), ("GET", "/v1/projects"), ("POST", "/v1/projects")):
        refused = client.request(method, path, headers=alpha, json={"name": "mine"})
        assert refused.status_code == 403 and "every project" in refused.json()["detail"]
    created = client.post(
        "/v1/tokens",
        json={"name": "ana-phone", "scopes": ["upload"], "projects": ["beta"]},
        headers=bearer(EVERY_PROJECT),
    )
    assert created.status_code == 201 and created.json()["projects"] == ["beta"]
    phone = bearer(created.json()["token"])
    assert client.get("/v1/projects/beta/labels", headers=phone).status_code == 200
    assert client.get("/v1/projects/alpha/labels", headers=phone).status_code == 404
    assert client.get("/v1/labels", headers=phone).status_code == 404
    unknown = client.post(
        "/v1/tokens",
        json={"name": "x", "scopes": ["read"], "projects": ["nowhere"]},
        headers=bearer(EVERY_PROJECT),
    )
    assert unknown.status_code == 422 and "nowhere" in unknown.json()["detail"]


def test_metrics_count_each_project_and_are_the_whole_server_s(server):
    client = server.client
    assert client.get("/metrics", headers=bearer(server.tokens["alpha"])).status_code == 403
    upload(client, "beta", activity="walk-beta", token=EVERY_PROJECT, session="counted")
    text = client.get("/metrics", headers=bearer(EVERY_PROJECT)).text
    for project in ("alpha", "beta", DEFAULT_PROJECT):
        counted = re.search(
            rf'^motionlab_project_sessions\{{project="{project}"\}} (\d+)$', text, re.M
        )
        listed = client.get(f"{base(project)}/sessions", headers=bearer(EVERY_PROJECT)).json()
        assert counted is not None and int(counted.group(1)) == listed["total"], project
        assert f'motionlab_project_runs{{project="{project}",status="queued"}}' in text
    assert '/v1/projects/{project}/sessions"' in text  # requests labelled by their route
