"""/readyz answers 503, with the reason, whenever the service could not do its work."""

from __future__ import annotations

import logging

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


@pytest.mark.integration
def test_a_poller_of_readyz_logs_each_change_once(settings):
    """`make run` and orchestrators poll /readyz while the workers start: one line says why it
    is not ready, one that it is, not a line a poll."""
    said: list[str] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = lambda record: said.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("motionlab")
    level, logger.level = logger.level, logging.INFO
    logger.addHandler(handler)
    workers = Workers(alive=1)
    try:
        with TestClient(create_app(settings, workers=workers), base_url="http://127.0.0.1") as api:
            statuses = [api.get("/readyz").status_code for _ in range(5)]
            workers.alive = 2
            statuses += [api.get("/readyz").status_code for _ in range(3)]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert statuses == [503] * 5 + [200] * 3
    readiness = [line for line in said if line.startswith(("not ready", "ready"))]
    assert len(readiness) == 2, readiness
    assert readiness[0].startswith("not ready") and readiness[1] == "ready", readiness
