"""Channels at upload: inferred from each format's names, declared with ?channels= or a JSON
session's "channels", shown by every read of a session, converted on request, checked against
the values (a wrong unit is a warning, never silent)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from tests.support.phone_formats import (
    RECORDING_START_NS,
    G,
    phone_motion,
    phone_recordings,
    sensor_logger_export,
)
from tests.support.problems import problem

DEG_PER_RAD = 180 / np.pi


def post(api, content, kind, **params):
    return api.post("/v1/sessions", params=params, content=content, headers={"Content-Type": kind})


def csv_body(columns: list[str], values: np.ndarray) -> bytes:
    out = io.StringIO()
    out.write(",".join(columns) + "\n")
    np.savetxt(out, values, delimiter=",", fmt="%.10g")
    return out.getvalue().encode()


def samples(api, session_id: str, **params) -> dict:
    response = api.get(
        f"/v1/sessions/{session_id}/samples",
        params=params,
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def gyroscope_in_degrees(seconds: float = 4.0) -> np.ndarray:
    t = np.arange(int(seconds * 50)) / 50
    return np.rad2deg(phone_motion("wave", t)["rotation"])  # (n, 3) deg/s


def test_a_deg_per_second_gyroscope_declared_as_rad_per_second_raises_the_warning(api):
    body = csv_body(["gyro_x", "gyro_y", "gyro_z"], gyroscope_in_degrees())
    response = post(
        api,
        body,
        "text/csv",
        session_id="wave-1",
        activity="wave",
        channels="gyro_x=gyroscope.x:rad/s,gyro_y=gyroscope.y:rad/s,gyro_z=gyroscope.z:rad/s",
    )
    assert response.status_code == 201, response.text  # stored: the data is the user's
    [entry] = response.json()["sessions"]
    [warning] = entry["warnings"]
    assert "look like deg/s, not rad/s" in warning, warning
    assert "channels=gyro_x=:deg/s,gyro_y=:deg/s,gyro_z=:deg/s" in warning, warning
    session = api.get("/v1/sessions/wave-1").json()
    assert session["warnings"] == [warning] and session["channel_levels"]["gyroscope"] > 200
    [stats_warning] = [w for w in api.get("/v1/stats").json()["warnings"] if "units" in w]
    assert "1 session(s)" in stats_warning and "'wave-1'" in stats_warning
    # Inferred from the names, the unit is Core Motion's rad/s: warned about too. Declared as
    # it is, the same file passes.
    inferred = post(api, body, "text/csv", session_id="wave-2", activity="wave")
    assert "look like deg/s" in inferred.json()["sessions"][0]["warnings"][0]
    fixed = post(
        api,
        body,
        "text/csv",
        session_id="wave-3",
        activity="wave",
        channels="gyro_x=:deg/s,gyro_y=:deg/s,gyro_z=:deg/s",
    )
    assert fixed.json()["sessions"][0]["warnings"] == []
    assert fixed.json()["sessions"][0]["channels"]["gyro_z"] == "gyroscope.z:deg/s"


def test_channels_are_shown_and_the_canonical_samples_are_converted(api):
    values = np.column_stack([gyroscope_in_degrees(1.0), np.full(50, 71.0)])
    response = post(
        api,
        csv_body(["gx", "gy", "gz", "pulse"], values),
        "text/csv",
        session_id="s",
        activity="wave",
        sample_rate_hz=50,
        channels="gx=:deg/s,gy=:deg/s,gz=:deg/s,pulse=other:bpm",
    )
    assert response.status_code == 201, response.text
    session = api.get("/v1/sessions/s").json()
    assert session["features"] == ["gx", "gy", "gz", "pulse"]  # stored as uploaded
    assert session["canonical_features"] == ["rotX", "rotY", "rotZ", "pulse"]
    gx, pulse = session["channels"][0], session["channels"][3]
    assert gx == {
        "column": "gx",
        "name": "rotX",
        "sensor": "gyroscope",
        "axis": "x",
        "unit": "deg/s",
        "canonical_unit": "rad/s",
        "scale": pytest.approx(np.pi / 180),
    }
    assert (pulse["name"], pulse["sensor"], pulse["unit"], pulse["scale"]) == (
        "pulse",
        "other",
        "bpm",
        1.0,
    )
    stored = samples(api, "s")
    assert stored["columns"] == ["gx", "gy", "gz", "pulse"]
    assert stored["channels"]["gx"] == "gyroscope.x:deg/s"
    np.testing.assert_allclose(stored["samples"], values, rtol=1e-9)
    canonical = samples(api, "s", units="canonical")
    assert canonical["columns"] == ["rotX", "rotY", "rotZ", "pulse"]
    assert canonical["channels"]["rotX"] == "gyroscope.x:rad/s"
    expected = np.column_stack([values[:, :3] / DEG_PER_RAD, values[:, 3]])
    np.testing.assert_allclose(canonical["samples"], expected, rtol=1e-9)
    as_csv = api.get("/v1/sessions/s/samples", params={"units": "canonical"}).text
    assert as_csv.splitlines()[0] == '"rotX","rotY","rotZ","pulse"'
    # What GET returns in JSON uploads as it is: the same session, a no-op.
    again = {k: v for k, v in stored.items() if k != "id"}
    response = api.post("/v1/sessions", json={"sessions": [{**again, "id": "s"}]})
    assert response.status_code == 200 and not response.json()["sessions"][0]["created"]


def test_a_json_session_declares_its_own_channels(api):
    session = {
        "id": "j",
        "activity": "wave",
        "columns": ["a1", "a2", "a3"],
        "samples": [[0.0, 0.0, G]] * 5,
        "channels": {f"a{i}": f"accelerometer.{a}:m/s2" for i, a in enumerate("xyz", 1)},
    }
    response = api.post("/v1/sessions", json={"sessions": [session]})
    assert response.status_code == 201, response.text
    [entry] = response.json()["sessions"]
    assert entry["channels"] == session["channels"] and entry["warnings"] == []
    assert api.get("/v1/sessions/j").json()["canonical_features"] == ["accelX", "accelY", "accelZ"]
    # Declaring other channels for the same samples is new content: a 409 unless replaced.
    changed = {**session, "channels": {"a1": "other", "a2": "other", "a3": "other"}}
    assert api.post("/v1/sessions", json={"sessions": [changed]}).status_code == 409
    replaced = api.post("/v1/sessions", params={"replace": "true"}, json={"sessions": [changed]})
    assert replaced.status_code == 201, replaced.text
    assert api.get("/v1/sessions/j").json()["canonical_features"] == ["a1", "a2", "a3"]


@pytest.mark.parametrize(
    ("params", "body", "words"),
    [
        ({"channels": "gyro_x=gyroscope"}, None, ["needs an axis", "gyroscope.x:rad/s"]),
        ({"channels": "gyro_x=gyroscope.x:m/s2"}, None, ["not a unit of angular velocity"]),
        ({"channels": "gyro_x=speedometer.x"}, None, ["names no sensor", "user_acceleration"]),
        ({"channels": "gyro_x"}, None, ["column=declaration"]),
        ({"channels": "gyro_q=:deg/s"}, None, ["'gyro_q'", "no session of this upload has"]),
        ({}, "ax,acc_x\n1,2\n", ["'ax' and 'acc_x' are both accelX", "channels=acc_x=other"]),
        ({"channels": "accelX=other"}, "accelX\n1\n", ["canonical name of the accelerometer x"]),
    ],
)
def test_bad_channels_are_a_422_that_says_what_to_write(api, params, body, words):
    content = body or csv_body(["gyro_x", "gyro_y", "gyro_z"], gyroscope_in_degrees(0.2))
    response = post(api, content, "text/csv", session_id="bad", activity="wave", **params)
    detail = problem(response, 422)["detail"]
    for word in words:
        assert word in detail, detail
    assert api.get("/v1/sessions").json()["total"] == 0


def test_edge_impulse_units_are_the_channels_units(api):
    _, edge = phone_recordings("wave")
    response = post(api, edge, "application/json", session_id="ei", activity="wave")
    assert response.status_code == 201, response.text
    [entry] = response.json()["sessions"]
    assert entry["channels"]["accX"] == "accelerometer.x:m/s2"
    assert entry["channels"]["gyrZ"] == "gyroscope.z:deg/s"
    assert entry["warnings"] == []
    levels = api.get("/v1/sessions/ei").json()["channel_levels"]
    assert levels["accelerometer"] == pytest.approx(1.0, abs=0.2)  # in g, from m/s²


def test_sensor_logger_reads_each_sensor_file_as_its_channel(api):
    """iOS: user acceleration and gravity (the accelerometer follows from them); Android: the
    acceleration with gravity too, in TotalAcceleration.csv."""
    logger, _ = phone_recordings("wave")
    response = post(api, logger, "application/zip", session_id="ios", activity="wave")
    assert response.status_code == 201, response.text
    [entry] = response.json()["sessions"]
    assert entry["channels"]["gravityX"] == "gravity.x:m/s2" and entry["warnings"] == []
    ios = api.get("/v1/sessions/ios").json()
    assert ios["canonical_features"] == [
        *(f"{s}{a}" for s in ("userAccel", "gravity", "rot") for a in "XYZ"),
        *(f"accel{a}" for a in "XYZ"),  # user acceleration + gravity
    ]
    t = np.arange(100) / 50
    time_ns = RECORDING_START_NS + np.arange(100) * 20_000_000
    motion = phone_motion("wave", t)
    android = sensor_logger_export(
        {
            "TotalAcceleration": (time_ns, motion["user"] + motion["gravity"]),
            "Gyroscope": (time_ns, motion["rotation"]),
        }
    )
    response = post(api, android, "application/zip", session_id="android", activity="wave")
    assert response.status_code == 201, response.text
    canonical = samples(api, "android", units="canonical")
    motion_features = [f"{sensor}{axis}" for sensor in ("accel", "rot") for axis in "XYZ"]
    assert canonical["columns"] == ["timestamp", *motion_features]
    np.testing.assert_allclose(
        np.array(canonical["samples"])[:, 1:4], (motion["user"] + motion["gravity"]) / G, atol=1e-9
    )


def test_the_same_motion_from_two_apps_reads_the_same(api):
    logger, edge = phone_recordings("wave", seed=4)
    assert post(api, logger, "application/zip", session_id="sl", activity="wave").is_success
    assert post(api, edge, "application/json", session_id="ei", activity="wave").is_success
    from_logger = samples(api, "sl", units="canonical")
    from_edge = samples(api, "ei", units="canonical")
    names = ["accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ"]
    columns = [from_logger["columns"].index(name) for name in names]
    np.testing.assert_allclose(
        np.array(from_logger["samples"])[:, columns],
        np.array(from_edge["samples"]),
        rtol=1e-9,
        atol=1e-12,
    )
    assert from_edge["channels"]["rotZ"] == "gyroscope.z:rad/s"
