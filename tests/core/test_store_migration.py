"""A store written by motionlab before packs (revision 0003: one Parquet file per session,
tests/data/store_0003.tar.gz, made by that code) migrates with `motionlab migrate`."""

from __future__ import annotations

import subprocess
import sys
import tarfile

import httpx
import numpy as np
import pyarrow.parquet as pq
import pytest

from core.db import make_engine, make_session_factory, unit_of_work
from core.settings import Settings
from tests.support.paths import REPO
from tests.support.servers import LiveServer, serve_environment
from tests.support.storage import store_files, unreferenced_files

pytestmark = pytest.mark.system

LEGACY_STORE = REPO / "tests" / "data" / "store_0003.tar.gz"


@pytest.fixture
def legacy(tmp_path) -> Settings:
    settings = Settings(home=tmp_path / "home", workers=0)
    with tarfile.open(LEGACY_STORE) as archive:
        archive.extractall(settings.home, filter="data")
    return settings


def migrate(settings: Settings) -> None:
    environment = serve_environment(settings.home, 0)
    subprocess.run([sys.executable, "-m", "service.cli", "migrate"], env=environment, check=True)


def test_store_of_per_session_parquet_files_migrates_into_packs(legacy):
    before = {path.stem: pq.read_table(path) for path in legacy.blobs_dir.rglob("*.parquet")}
    assert len(before) == 8
    migrate(legacy)
    migrate(legacy)  # a second time: nothing left to do
    assert not list(legacy.blobs_dir.rglob("*.parquet"))
    assert store_files(legacy) and not unreferenced_files(legacy)

    with LiveServer(legacy) as live, httpx.Client(base_url=live.url, timeout=60) as api:
        sessions = api.get("/v1/sessions").json()["items"]
        assert len(sessions) == 7  # train-012 was deleted; a queued run still pins its samples
        for session in sessions:
            samples = api.get(
                f"/v1/sessions/{session['id']}/samples", headers={"Accept": "application/json"}
            ).json()
            legacy_table = before[session["blob_sha256"]]
            assert samples["columns"] == legacy_table.column_names
            expected = np.column_stack([c.to_numpy() for c in legacy_table.columns])
            assert np.array_equal(np.array(samples["samples"]), expected)
        run_id = api.get("/v1/runs").json()["items"][0]["id"]

    from workers.run_data import load_run_parts

    engine = make_engine(legacy.resolved_database_url)
    with unit_of_work(make_session_factory(engine)) as db:
        parts = load_run_parts(
            db, legacy_store(legacy), run_id, features=["accelX"], target="activity"
        )
    engine.dispose()
    assert sorted(parts) == ["test", "train"]
    assert "train-012" in set(parts["train"].session_ids)
    assert parts["train"].num_sessions + parts["test"].num_sessions == 8


def legacy_store(settings: Settings):
    from core.storage import PackStore

    return PackStore(settings.blobs_dir)
