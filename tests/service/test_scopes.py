"""Every route of the app × every kind of caller: 401, 403 or through, as docs/tokens.md documents.

The routes come from the app's own route table, so a route added later fails
test_every_route_is_documented until its scope is written down here (and in docs/tokens.md), and
the matrix checks it is enforced.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.routing import APIWebSocketRoute, iter_route_contexts
from pydantic import SecretStr
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocket

from core.db import make_engine, make_session_factory, unit_of_work
from service.app import create_app
from service.auth import PROJECT_PREFIX
from service.scopes import Scope
from service.tokens.service import create_token, revoke_token

OPEN, UPLOAD, READ, TRAIN, ADMIN = None, "upload", "read", "train", "admin"


def in_project(path: str) -> str:
    """/v1/sessions → /v1/projects/{project}/sessions"""
    return PROJECT_PREFIX + path.removeprefix("/v1")


# docs/tokens.md's table: (method, path template) → the scope it needs (admin has every scope).
DOCUMENTED = {
    ("GET", "/healthz"): OPEN,
    ("GET", "/readyz"): OPEN,
    ("GET", "/docs"): OPEN,
    ("GET", "/docs/oauth2-redirect"): OPEN,
    ("GET", "/redoc"): OPEN,
    ("GET", "/openapi.json"): OPEN,
    # The dashboard: pages without data (their scripts call the API with the visitor's token)
    ("GET", "/"): OPEN,
    ("GET", "/sessions/{session_id}"): OPEN,
    ("GET", "/runs"): OPEN,
    ("GET", "/runs/{run_id}"): OPEN,
    ("GET", "/compare"): OPEN,
    ("GET", "/models"): OPEN,
    ("GET", "/sweeps/{sweep_id}"): OPEN,
    ("GET", "/tokens"): OPEN,
    ("GET", "/collect"): OPEN,
    ("GET", "/collect.sw.js"): OPEN,
    ("GET", "/static/{file_path:path}"): OPEN,
    ("GET", "/metrics"): READ,
    ("POST", "/v1/sessions"): UPLOAD,
    ("GET", "/v1/sessions"): READ,
    ("GET", "/v1/sessions/{session_id}"): READ,
    ("GET", "/v1/sessions/{session_id}/samples"): READ,
    ("DELETE", "/v1/sessions/{session_id}"): ADMIN,
    ("GET", "/v1/stats"): READ,
    ("GET", "/v1/labels"): UPLOAD,
    ("POST", "/v1/runs"): TRAIN,
    ("GET", "/v1/runs"): READ,
    ("GET", "/v1/runs/{run_id}"): READ,
    ("POST", "/v1/runs/{run_id}/cancel"): TRAIN,
    ("DELETE", "/v1/runs/{run_id}"): ADMIN,  # a delete, like a session's: admin
    ("GET", "/v1/runs/{run_id}/progress"): READ,
    ("GET", "/v1/runs/{run_id}/events"): READ,
    ("GET", "/v1/runs/{run_id}/metrics"): READ,
    ("GET", "/v1/runs/{run_id}/model"): READ,
    ("GET", "/v1/runs/{run_id}/model.mlmodel"): READ,
    ("GET", "/v1/runs/{run_id}/model.onnx"): READ,
    ("GET", "/v1/runs/{run_id}/model.mlpackage.zip"): READ,
    ("POST", "/v1/runs/{run_id}/predict"): TRAIN,
    ("POST", "/v1/runs/{run_id}/evaluate"): TRAIN,
    ("POST", "/v1/sweeps"): TRAIN,
    ("GET", "/v1/sweeps/{sweep_id}"): READ,
    ("POST", "/v1/sweeps/{sweep_id}/cancel"): TRAIN,
    ("GET", "/v1/engines"): READ,
    ("GET", "/v1/models"): READ,
    ("GET", "/v1/models/{name}"): READ,
    ("GET", "/v1/models/{name}/versions"): READ,
    ("GET", "/v1/models/{name}/{ref}"): READ,
    ("POST", "/v1/models/{name}/versions"): ADMIN,
    ("PUT", "/v1/models/{name}/aliases/{alias}"): ADMIN,
    ("DELETE", "/v1/models/{name}/aliases/{alias}"): ADMIN,
    ("GET", "/v1/models/{name}/{ref}/model.mlmodel"): READ,
    ("GET", "/v1/models/{name}/{ref}/model.onnx"): READ,
    ("GET", "/v1/models/{name}/{ref}/model.mlpackage.zip"): READ,
    ("POST", "/v1/models/{name}/{ref}/predict"): TRAIN,
    ("POST", "/v1/models/{name}/{ref}/evaluate"): TRAIN,
    ("GET", "/v1/tokens"): ADMIN,
    ("POST", "/v1/tokens"): ADMIN,
    ("POST", "/v1/collect-tokens"): ADMIN,
    ("DELETE", "/v1/tokens/{token_id}"): ADMIN,
    ("GET", "/v1/audit"): ADMIN,
    ("GET", "/v1/projects"): ADMIN,
    ("POST", "/v1/projects"): ADMIN,
    ("DELETE", "/v1/projects/{project}"): ADMIN,
}
# WebSocket routes (their handshake is a GET): live classification predicts, like predict.
DOCUMENTED_WEBSOCKETS = {
    "/v1/runs/{run_id}/live": TRAIN,
    "/v1/models/{name}/{ref}/live": TRAIN,
}
# The routes of a project exist again under /v1/projects/{project}, each needing what the
# default project's does; tokens and projects are the whole server's.
SERVER_WIDE = ("/v1/tokens", "/v1/collect-tokens", "/v1/projects")
DOCUMENTED |= {
    (method, in_project(path)): scope
    for (method, path), scope in DOCUMENTED.items()
    if path.startswith("/v1/") and not path.startswith(SERVER_WIDE)
}
DOCUMENTED_WEBSOCKETS |= {in_project(path): s for path, s in DOCUMENTED_WEBSOCKETS.items()}
# Replacing stored sessions is not adding them: POST /v1/sessions?replace=true needs admin.
TOKENS = {scope: f"{scope}-token-{'x' * 24}" for scope in Scope}
REVOKED = "revoked"
CALLERS = [None, *Scope, REVOKED]


def app_routes(app) -> set[tuple[str, str]]:
    """(method, path template) of every route, included routers flattened."""
    return {
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        for method in route.methods or ()
        if method != "HEAD"
    }


def app_websockets(app) -> set[str]:
    return {
        route.path
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIWebSocketRoute)
    }


def concrete(path: str) -> str:
    """The template with every parameter filled with something that does not exist."""
    return re.sub(r"\{(\w+)\}", lambda m: "1" if m.group(1) == "ref" else f"no-{m.group(1)}", path)


@pytest.fixture
def guarded(settings) -> Iterator[tuple[TestClient, str]]:
    """An app with one environment token per scope, and a database token revoked since."""
    entries = ",".join(f"{scope}:{scope}:{token}" for scope, token in TOKENS.items())
    settings = settings.model_copy(update={"tokens": SecretStr(entries)})
    factory = make_session_factory(make_engine(settings.resolved_database_url))
    with unit_of_work(factory) as db:
        row, revoked = create_token(db, name="lost-phone", scopes=frozenset(Scope))
    with unit_of_work(factory) as db:
        revoke_token(db, token_id=row.id)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client, revoked


def headers_for(caller, revoked: str) -> dict[str, str]:
    if caller is None:
        return {}
    token = revoked if caller == REVOKED else TOKENS[caller]
    return {"Authorization": f"Bearer {token}"}


def test_every_route_is_documented(settings):
    app = create_app(settings)
    assert app_routes(app) == set(DOCUMENTED)
    assert app_websockets(app) == set(DOCUMENTED_WEBSOCKETS)


@pytest.mark.parametrize("path", sorted(DOCUMENTED_WEBSOCKETS), ids=str)
def test_websocket_scope_matrix(guarded, path):
    """A refused handshake is a 401 / 403 problem; one let through meets the route (404 here:
    nothing by that name exists)."""
    client, revoked = guarded
    scope = DOCUMENTED_WEBSOCKETS[path]
    for caller in CALLERS:
        headers = headers_for(caller, revoked)
        with (
            pytest.raises(WebSocketDenialResponse) as refusal,
            client.websocket_connect(concrete(path), headers=headers),
        ):
            pass
        status = refusal.value.status_code
        if caller is None or caller == REVOKED:
            assert status == 401, (caller, refusal.value.text)
        elif caller in (scope, Scope.ADMIN):
            assert status == 404, (caller, refusal.value.text)
        else:
            assert status == 403, (caller, refusal.value.text)


def test_the_openapi_document_declares_each_routes_scope(settings):
    document = create_app(settings).openapi()
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    # A project's routes are described once, by the default project's and the prefix.
    assert f"`{PROJECT_PREFIX}/…`" in document["info"]["description"]
    for (method, path), scope in DOCUMENTED.items():
        if path.startswith(PROJECT_PREFIX + "/"):
            continue
        operation = document["paths"].get(path, {}).get(method.lower())
        if operation is None:
            assert scope is OPEN, f"{method} {path} is not in the OpenAPI document"
            continue
        if scope is OPEN:
            assert operation["security"] == []
        else:
            assert operation["security"] == [{"bearerAuth": []}], (method, path)
            assert operation["x-required-scope"] == scope
            assert {"401", "403"} <= set(operation["responses"])


@pytest.mark.parametrize(("method", "path"), sorted(DOCUMENTED), ids=str)
def test_scope_matrix(guarded, method, path):
    client, revoked = guarded
    scope = DOCUMENTED[(method, path)]
    for caller in CALLERS:
        response = client.request(method, concrete(path), headers=headers_for(caller, revoked))
        status = response.status_code
        if scope is OPEN:
            expected = "through"
        elif caller is None or caller == REVOKED:
            expected = 401
        elif caller in (scope, Scope.ADMIN):
            expected = "through"
        else:
            expected = 403
        if expected == "through":
            assert status not in (401, 403) and status < 500, (caller, status, response.text)
        else:
            assert status == expected, (caller, status, response.text)
        if status == 401:
            assert response.headers["www-authenticate"].startswith("Bearer")


def test_replacing_sessions_needs_admin(guarded):
    client, _ = guarded
    body, csv = "sessionId,activity,x\ns1,walk,1\ns1,walk,2\n", {"Content-Type": "text/csv"}
    upload = {"Authorization": f"Bearer {TOKENS[Scope.UPLOAD]}", **csv}
    admin = {"Authorization": f"Bearer {TOKENS[Scope.ADMIN]}", **csv}
    assert client.post("/v1/sessions", content=body, headers=upload).status_code == 201
    changed = body.replace(",2", ",3")
    refused = client.post("/v1/sessions?replace=true", content=changed, headers=upload)
    assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    assert client.post("/v1/sessions?replace=true", content=changed, headers=admin).is_success


def test_a_route_added_later_needs_a_token_too_even_a_websocket(settings):
    entries = ",".join(f"{scope}:{scope}:{token}" for scope, token in TOKENS.items())
    app = create_app(settings.model_copy(update={"tokens": SecretStr(entries)}))

    @app.post("/v1/experiments")
    def new_write() -> dict:
        return {"ok": True}

    @app.websocket("/v1/live")
    async def live(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    with TestClient(app) as client:
        read = {"Authorization": f"Bearer {TOKENS[Scope.READ]}"}
        admin = {"Authorization": f"Bearer {TOKENS[Scope.ADMIN]}"}
        assert client.post("/v1/experiments").status_code == 401
        assert client.post("/v1/experiments", headers=read).status_code == 403  # writes: admin
        assert client.post("/v1/experiments", headers=admin).json() == {"ok": True}
        live = client.websocket_connect("/v1/live")
        with pytest.raises(WebSocketDenialResponse) as refused, live:
            pass
        assert refused.value.status_code == 401  # the handshake answered as a problem
        assert refused.value.headers["content-type"] == "application/problem+json"
        with client.websocket_connect("/v1/live", headers=read) as socket:
            assert socket.receive_text() == "hello"
