"""A store written before channels (revision 0007: tests/data/store_0007.tar.gz, made by
motionlab at a1ea385 with the bundled BasicMotions sessions, an Edge Impulse file of m/s² and
deg/s, a Sensor Logger zip, `ax…wz` and `acc_x…heart_rate` CSVs, and a queued run; the bodies it
was sent are under uploads/) migrates with `motionlab migrate`: every session gets its channels
and its unit checks, re-sent files stay no-ops, and the queued run reads what it always read."""

from __future__ import annotations

import subprocess
import sys
import tarfile

import httpx
import numpy as np
import pytest

from core.db import make_engine, make_session_factory, unit_of_work
from core.settings import Settings
from core.storage import PackStore
from tests.support.paths import REPO
from tests.support.servers import LiveServer, serve_environment

STORE_0007 = REPO / "tests" / "data" / "store_0007.tar.gz"
G = 9.80665
BASICMOTIONS = ["accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ"]

pytestmark = pytest.mark.system  # `motionlab migrate` and a server as processes


@pytest.fixture
def migrated(tmp_path) -> Settings:
    settings = Settings(home=tmp_path / "home", workers=0)
    with tarfile.open(STORE_0007) as archive:
        archive.extractall(settings.home, filter="data")
    for _ in range(2):  # a second time: nothing left to do
        subprocess.run(
            [sys.executable, "-m", "service.cli", "migrate"],
            env=serve_environment(settings.home, 0),
            check=True,
        )
    return settings


def channels(session: dict) -> dict[str, tuple]:
    return {c["column"]: (c["name"], c["sensor"], c["unit"]) for c in session["channels"]}


def test_every_stored_session_gets_its_channels_and_unit_checks(migrated):
    with LiveServer(migrated) as live, httpx.Client(base_url=live.url, timeout=60) as api:
        sessions = {s["id"]: s for s in api.get("/v1/sessions").json()["items"]}
        stats = api.get("/v1/stats").json()
    assert len(sessions) == 20 and all(s["channel_levels"] is not None for s in sessions.values())
    basic = sessions["train-001"]
    assert basic["canonical_features"] == BASICMOTIONS
    assert all(c["column"] == c["name"] and c["scale"] == 1.0 for c in basic["channels"])
    # Edge Impulse files report acceleration in m/s²; their units were not kept before, so the
    # gyroscope reads as rad/s, and the checks see that its values are deg/s.
    edge = sessions["walk-ei"]
    assert channels(edge)["accX"] == ("accelX", "accelerometer", "m/s2")
    assert channels(edge)["gyrX"] == ("rotX", "gyroscope", "rad/s")
    [warning] = edge["warnings"]
    assert "look like deg/s, not rad/s" in warning and "gyrX=:deg/s" in warning, warning
    assert edge["channel_levels"]["accelerometer"] == pytest.approx(1.0, abs=0.1)
    # Sensor Logger's Accelerometer.csv was stored as accelX…: it is user acceleration, m/s².
    logger = sessions["walk-sl"]
    assert channels(logger)["accelX"] == ("userAccelX", "user_acceleration", "m/s2")
    assert logger["canonical_features"] == [*(f"userAccel{a}" for a in "XYZ"), *BASICMOTIONS[3:]]
    assert channels(sessions["wrist-1"])["wx"] == ("rotX", "gyroscope", "rad/s")
    assert sessions["wrist-1"]["warnings"] == []
    chest = sessions["chest-1"]
    assert channels(chest)["heart_rate"] == ("heart_rate", "other", "")
    assert "look like m/s2, not g" in chest["warnings"][0]
    assert any("contradict their units" in w and "'chest-1'" in w for w in stats["warnings"])
    assert stats["by_channels"]["accelX, accelY, accelZ, rotX, rotY, rotZ"]["sessions"] == 18


def test_re_sent_files_stay_no_ops_and_a_replacement_reads_the_file_s_units(migrated):
    uploads = migrated.home / "uploads"
    sent = {
        "walk-ei": ("walk-ei.json", "application/json", {"activity": "Walking", "subject": "ana"}),
        "walk-sl": ("walk-sl.zip", "application/zip", {"activity": "Walking", "subject": "ana"}),
        "wrist-1": (
            "wrist-1.csv",
            "text/csv",
            {"activity": "Walking", "subject": "s1", "sample_rate_hz": 50},
        ),
    }
    answers = {}
    with LiveServer(migrated) as live, httpx.Client(base_url=live.url, timeout=60) as api:
        for session_id, (name, kind, labels) in sent.items():
            response = api.post(
                "/v1/sessions",
                params={"session_id": session_id, **labels},
                content=(uploads / name).read_bytes(),
                headers={"Content-Type": kind},
            )
            assert response.status_code == 200, response.text
            [answers[session_id]] = response.json()["sessions"]
            assert not answers[session_id]["created"] and not answers[session_id]["replaced"]
        # The file says its gyroscope is deg/s: not stored over the old reading without a word.
        note = answers["walk-ei"]["warnings"][-1]
        assert "this upload reads the channels otherwise" in note, note
        assert "gyrX: stored gyroscope.x:rad/s, this upload gyroscope.x:deg/s" in note, note
        assert "?replace=true" in note
        replaced = api.post(
            "/v1/sessions",
            params={"session_id": "walk-ei", "replace": "true", **sent["walk-ei"][2]},
            content=(uploads / "walk-ei.json").read_bytes(),
            headers={"Content-Type": "application/json"},
        )
        assert replaced.status_code == 201 and replaced.json()["sessions"][0]["replaced"]
        edge = api.get("/v1/sessions/walk-ei").json()
    assert channels(edge)["gyrX"] == ("rotX", "gyroscope", "deg/s") and edge["warnings"] == []


def test_the_queued_run_reads_what_it_always_read_and_new_runs_select_by_channels(migrated):
    from workers.run_data import load_run_parts

    with LiveServer(migrated) as live, httpx.Client(base_url=live.url, timeout=60) as api:
        [queued] = api.get("/v1/runs").json()["items"]
        samples = api.get(
            "/v1/sessions/train-001/samples", headers={"Accept": "application/json"}
        ).json()
        response = api.post(
            "/v1/runs",
            json={"prediction_window": 10, "features": BASICMOTIONS, "max_iterations": 1},
        )
        assert response.status_code == 202, response.text
        run = response.json()
        nothing_shared = api.post("/v1/runs", json={"prediction_window": 10})
    assert queued["params"]["features"] == BASICMOTIONS and queued["params"]["channels"] is None
    engine = make_engine(migrated.resolved_database_url)
    with unit_of_work(make_session_factory(engine)) as db:
        parts = load_run_parts(
            db,
            PackStore(migrated.blobs_dir),
            queued["id"],
            features=BASICMOTIONS,
            target="activity",
        )
    engine.dispose()
    train = parts["train"]
    first = train.features[train.session_ids == "train-001"]
    expected = np.array(samples["samples"])[:, 1:]  # after the timestamp
    np.testing.assert_array_equal(first, expected.astype(np.float32))
    # Sessions without the features are left out, with the reason: the Sensor Logger one has
    # user acceleration (no gravity to make the accelerometer of), the chest one no gyroscope.
    [left_out] = [w for w in run["warnings"] if "left out" in w]
    assert "2 of the 20 selected sessions" in left_out and "'chest-1' lacks" in left_out
    assert run["sessions_per_part"] == {"train": 10, "test": 8}
    assert any("contradict their units" in w for w in run["warnings"])
    assert nothing_shared.status_code == 422 and "share no feature" in nothing_shared.text
