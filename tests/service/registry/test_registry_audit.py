"""Who changed the registry, and when: versions, alias moves and removals name their token."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr

from tests.support.servers import LiveServer

ADMIN, DEVELOPER = "r" * 32, "d" * 32


@pytest.fixture
def release(served) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """The trained server's data behind a second server that has tokens (from the environment,
    so the shared database stays token-free for the other tests): (release-bot, developer)."""
    tokens = f"release-bot:admin:{ADMIN},dev:read+train:{DEVELOPER}"
    settings = served.settings.model_copy(update={"tokens": SecretStr(tokens)})
    with LiveServer(settings) as live:
        clients = [
            httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {t}"}, timeout=60)
            for t in (ADMIN, DEVELOPER)
        ]
        yield clients[0], clients[1]
        for client in clients:
            client.close()


def test_registry_changes_name_the_token_that_made_them(served, release):
    bot, developer = release
    name = "audited-model"
    refused = developer.post(f"/v1/models/{name}/versions", json={"run_id": served.run_id})
    assert refused.status_code == 403  # train + read cannot touch the registry

    first = bot.post(f"/v1/models/{name}/versions", json={"run_id": served.run_id}).json()
    assert first["version"] == 1 and first["created_by"] == "release-bot"
    bot.post(f"/v1/models/{name}/versions", json={"run_id": served.other_run_id})
    again = bot.post(f"/v1/models/{name}/versions", json={"run_id": served.run_id})
    assert again.json()["version"] == 1  # idempotent: the run's existing version

    alias = bot.put(f"/v1/models/{name}/aliases/production", json={"version": 1}).json()
    assert alias["updated_by"] == "release-bot"
    bot.put(f"/v1/models/{name}/aliases/production", json={"version": 2})
    bot.put(f"/v1/models/{name}/aliases/production", json={"version": 2})  # no move
    assert bot.delete(f"/v1/models/{name}/aliases/production").status_code == 204

    detail = developer.get(f"/v1/models/{name}").json()
    assert [v["created_by"] for v in detail["versions"]] == ["release-bot", "release-bot"]
    history = [
        (h["alias"], h["previous_version"], h["version"], h["by"]) for h in detail["alias_history"]
    ]
    assert history == [
        ("production", 2, None, "release-bot"),
        ("production", 1, 2, "release-bot"),
        ("production", None, 1, "release-bot"),
    ]
    assert all(h["at"] and h["token_id"].startswith("env:") for h in detail["alias_history"])

    audit = bot.get("/v1/audit", params={"target": f"models/{name}"}).json()
    assert [e["action"] for e in audit["items"]] == [
        "alias.delete",
        "alias.set",
        "alias.set",
        "version.register",
        "version.register",
    ]
    assert developer.get("/v1/audit").status_code == 403
