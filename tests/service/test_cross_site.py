"""No tokens (local development): loopback only, and no web page can drive the API."""

from __future__ import annotations

from pydantic import SecretStr
from starlette.testclient import TestClient

from service.app import create_app
from tests.support.runs import start_run, upload_tiny

CSV = {"Content-Type": "text/csv"}
BODY = "sessionId,activity,x\ns1,walk,1\ns1,walk,2\n"


def test_a_foreign_origin_is_refused_and_changes_nothing(api, server):
    upload_tiny(api)
    run_id = start_run(api, prediction_window=5, max_iterations=1)
    evil = {"Origin": "http://evil.example"}
    for response in (
        api.post("/v1/sessions", content=BODY, headers={**CSV, **evil}),
        # what a form post or a fetch() with text/plain from a web page looks like
        api.post("/v1/sessions", content=BODY, headers={"Content-Type": "text/plain", **evil}),
        api.post(f"/v1/runs/{run_id}/cancel", headers=evil),
        api.delete("/v1/sessions/t000", headers={"Origin": "null"}),
        api.get("/v1/sessions", headers={"Sec-Fetch-Site": "cross-site"}),
    ):
        assert response.status_code == 403, response.text
        assert response.json()["detail"]
    assert api.get(f"/v1/runs/{run_id}").json()["status"] == "queued"
    assert api.get("/v1/sessions/t000").status_code == 200
    assert api.get("/v1/sessions/s1").status_code == 404
    same_origin = {"Origin": server.url, "Sec-Fetch-Site": "same-origin"}
    assert api.post(f"/v1/runs/{run_id}/cancel", headers=same_origin).status_code == 200


def test_a_foreign_host_is_refused_dns_rebinding(api, server):
    refused = api.post("/v1/sessions", content=BODY, headers={**CSV, "Host": "evil.example"})
    assert refused.status_code == 403 and "Host 'evil.example'" in refused.json()["detail"]
    assert api.get("/v1/stats", headers={"Host": f"evil.example:{server.port}"}).status_code == 403
    assert api.get("/v1/stats", headers={"Host": f"localhost:{server.port}"}).status_code == 200
    assert api.get("/v1/sessions").status_code == 200  # Host: 127.0.0.1:<port>
    # probes and the API description stay open (they show no data)
    assert api.get("/healthz", headers={"Host": "evil.example"}).status_code == 200


def test_without_tokens_only_loopback_clients_are_served(settings):
    app = create_app(settings)
    with TestClient(app, base_url="http://127.0.0.1", client=("192.168.1.20", 5000)) as lan:
        refused = lan.get("/v1/sessions")
        assert refused.status_code == 403
        assert "motionlab token create" in refused.json()["detail"]
        assert lan.get("/readyz").status_code == 200
    with TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 5000)) as local:
        assert local.get("/v1/sessions").status_code == 200


def test_insecure_serves_any_client_but_still_refuses_web_pages(settings):
    app = create_app(settings.model_copy(update={"insecure": True, "host": "0.0.0.0"}))
    with TestClient(app, base_url="http://ml.lan", client=("192.168.1.20", 5000)) as lan:
        assert lan.get("/v1/sessions").status_code == 200
        evil = lan.get("/v1/sessions", headers={"Origin": "http://evil.example"})
        assert evil.status_code == 403


def test_with_tokens_a_foreign_origin_is_refused_even_with_a_valid_token(settings):
    token = "a" * 32
    app = create_app(settings.model_copy(update={"tokens": SecretStr(f"ci:read:{token}")}))
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(app, base_url="http://ml.example.com", client=("203.0.113.9", 5000)) as net:
        assert net.get("/v1/sessions", headers=auth).status_code == 200  # any Host, any client
        foreign = net.get("/v1/sessions", headers={**auth, "Origin": "http://evil.example"})
        assert foreign.status_code == 403
        own = net.get("/v1/sessions", headers={**auth, "Origin": "http://ml.example.com"})
        assert own.status_code == 200
