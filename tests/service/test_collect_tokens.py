"""The dashboard's QR code for /collect: an upload-only token that expires when the admin said
and stops at once when revoked; the labels a recorder offers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from core.db import make_engine

PHONE_SESSION = {
    "id": "phone-rec-1",
    "activity": "walking",
    "subject": "ana",
    "sample_rate_hz": 50,
    "columns": ["accelX", "accelY", "accelZ"],
    "channels": {f"accel{a}": f"accelerometer.{a.lower()}:m/s2" for a in "XYZ"},
    "samples": [[0.1, 0.2, 9.8], [0.2, 0.1, 9.7]],
}
LAN = "https://192.168.1.20:8443"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def admin_token(api) -> str:
    """The first token, made while none exists (this machine may then do anything)."""
    created = api.post("/v1/tokens", json={"name": "root", "scopes": ["admin"]})
    assert created.status_code == 201, created.text
    return created.json()["token"]


def collect_token(api, admin: str, **request) -> dict:
    created = api.post(
        "/v1/collect-tokens", json={"base_url": LAN, **request}, headers=bearer(admin)
    )
    assert created.status_code == 201, created.text
    return created.json()


def test_the_qr_token_uploads_and_reads_labels_but_nothing_else(api):
    admin = admin_token(api)
    before = datetime.now(UTC)
    qr = collect_token(api, admin, name="ana-phone", expires_in_minutes=30)
    assert qr["scopes"] == ["upload"] and qr["name"] == "ana-phone"
    assert qr["collect_url"] == f"{LAN}/collect#token={qr['token']}"
    assert qr["qr_svg"].startswith("<svg") and "<path" in qr["qr_svg"]
    expires_at = datetime.fromisoformat(qr["expires_at"]).replace(tzinfo=UTC)
    assert before + timedelta(minutes=30) <= expires_at <= datetime.now(UTC) + timedelta(minutes=30)

    phone = bearer(qr["token"])
    stored = api.post("/v1/sessions", json={"sessions": [PHONE_SESSION]}, headers=phone)
    assert stored.status_code == 201, stored.text
    again = api.post("/v1/sessions", json={"sessions": [PHONE_SESSION]}, headers=phone)
    assert again.status_code in (200, 201) and again.json()["sessions"][0]["id"] == "phone-rec-1"
    labels = api.get("/v1/labels", headers=phone)
    assert labels.json() == {"activities": ["walking"], "subjects": ["ana"]}
    refused = [
        api.get("/v1/sessions", headers=phone),
        api.get("/v1/sessions/phone-rec-1/samples", headers=phone),
        api.post("/v1/runs", json={"experiment": "x"}, headers=phone),
        api.delete("/v1/sessions/phone-rec-1", headers=phone),
        api.post("/v1/sessions?replace=true", json={"sessions": [PHONE_SESSION]}, headers=phone),
        api.post("/v1/tokens", json={"name": "more", "scopes": ["admin"]}, headers=phone),
        api.post("/v1/collect-tokens", json={"base_url": LAN}, headers=phone),
        api.get("/v1/tokens", headers=phone),
    ]
    assert [answer.status_code for answer in refused] == [403] * len(refused)
    assert "needs 'read'" in refused[0].json()["detail"]


def test_only_an_admin_makes_qr_tokens_and_only_for_a_web_address(api):
    admin = admin_token(api)
    trainer = api.post(
        "/v1/tokens", json={"name": "dev", "scopes": ["read", "train"]}, headers=bearer(admin)
    ).json()["token"]
    refused = api.post("/v1/collect-tokens", json={"base_url": LAN}, headers=bearer(trainer))
    assert refused.status_code == 403 and "needs 'admin'" in refused.json()["detail"]
    for base_url in ("javascript:alert(1)", f"{LAN}/collect", "https://a b"):
        invalid = api.post("/v1/collect-tokens", json={"base_url": base_url}, headers=bearer(admin))
        assert invalid.status_code == 422, base_url
    too_long = api.post(
        "/v1/collect-tokens",
        json={"base_url": LAN, "expires_in_minutes": 400 * 24 * 60},
        headers=bearer(admin),
    )
    assert too_long.status_code == 422


def test_a_revoked_or_expired_qr_token_stops_working(api, settings):
    admin = admin_token(api)
    revoked, expired = collect_token(api, admin), collect_token(api, admin, name="later")
    body = {"sessions": [PHONE_SESSION]}
    assert api.post("/v1/sessions", json=body, headers=bearer(revoked["token"])).status_code == 201

    assert api.delete(f"/v1/tokens/{revoked['id']}", headers=bearer(admin)).status_code == 204
    after_revoke = api.post("/v1/sessions", json=body, headers=bearer(revoked["token"]))
    assert after_revoke.status_code == 401

    # The clock passes the expiry (the earliest an admin may choose is a minute away).
    with make_engine(settings.resolved_database_url).begin() as database:
        past = (datetime.now(UTC) - timedelta(seconds=1)).replace(tzinfo=None)  # as stored
        database.execute(
            text("UPDATE api_tokens SET expires_at = :past WHERE id = :id"),
            {"past": past, "id": expired["id"]},
        )
    assert api.post("/v1/sessions", json=body, headers=bearer(expired["token"])).status_code == 401
    listed = {t["id"]: t for t in api.get("/v1/tokens", headers=bearer(admin)).json()}
    assert listed[expired["id"]]["expires_at"] is not None
