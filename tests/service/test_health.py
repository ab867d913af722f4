"""/readyz answers 503, with the reason, whenever the service could not do its work."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from core.migrate import upgrade
from core.settings import Settings
from service.app import create_app


class Workers:
    def __init__(self, alive: int):
        self.alive = alive

    def status(self) -> dict[str, int]:
        return {"expected": 2, "alive": self.alive, "restarts": 0}


def readyz(settings: Settings, workers=None):
    with TestClient(create_app(settings, workers=workers), base_url="http://127.0.0.1") as client:
        return client.get("/readyz")


@pytest.mark.integration
def test_not_ready_without_a_schema_or_with_an_old_one(tmp_path):
    settings = Settings(home=tmp_path / "home", workers=0)
    never = readyz(settings)
    assert never.status_code == 503 and "no schema" in never.json()["problems"][0]
    upgrade(settings.resolved_database_url, "0001")
    behind = readyz(settings)
    assert behind.status_code == 503
    assert "run `motionlab migrate`" in behind.json()["problems"][0]


@pytest.mark.both_databases
def test_not_ready_while_an_embedded_worker_is_dead(settings):
    dead = readyz(settings, Workers(alive=1))
    assert dead.status_code == 503
    assert dead.json()["workers"] == {"expected": 2, "alive": 1, "restarts": 0}
    assert "1 of 2 embedded workers are not alive" in dead.json()["problems"][0]
    assert readyz(settings, Workers(alive=2)).status_code == 200
