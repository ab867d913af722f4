"""`serve` merges the packs of one-session uploads as they accumulate: every session reads back
the same over HTTP, and the store keeps fewer packs than a pass waits for (MIN_PACKS) instead
of one per upload."""

from __future__ import annotations

import time

import httpx
import numpy as np
import pytest
from sqlalchemy import func, select

from core.compaction import MIN_PACKS
from core.db import make_engine, make_session_factory, unit_of_work
from core.models import Pack
from tests.support.homes import migrated_settings
from tests.support.servers import LiveServer

pytestmark = pytest.mark.both_databases


def live_packs(settings) -> int:
    engine = make_engine(settings.resolved_database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as db:
            query = select(func.count()).select_from(Pack).where(Pack.retired_at.is_(None))
            return db.scalar(query) or 0
    finally:
        engine.dispose()


def test_phone_uploads_are_merged_into_few_packs_while_serving(tmp_path, database_url):
    settings = migrated_settings(
        tmp_path / "home", database_url, workers=0, store_collect_interval_s=0.2
    )
    rng = np.random.default_rng(0)
    recordings = {f"rec-{i:03d}": rng.normal(size=(30, 3)).round(6) for i in range(3 * MIN_PACKS)}
    with LiveServer(settings) as live, httpx.Client(base_url=live.url, timeout=60) as api:
        for session_id, values in recordings.items():
            body = "x,y,z\n" + "\n".join(",".join(map(repr, row)) for row in values.tolist())
            response = api.post(
                "/v1/sessions",
                params={"session_id": session_id, "activity": "wave"},
                content=body.encode(),
                headers={"Content-Type": "text/csv"},
            )
            assert response.status_code == 201, response.text
        deadline = time.monotonic() + 60
        while live_packs(settings) >= MIN_PACKS:
            assert time.monotonic() < deadline, f"{live_packs(settings)} packs after 60 s"
            time.sleep(0.1)
        for session_id, values in recordings.items():
            samples = api.get(
                f"/v1/sessions/{session_id}/samples", headers={"Accept": "application/json"}
            ).json()["samples"]
            assert samples == values.tolist()
