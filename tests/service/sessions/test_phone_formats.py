"""Uploads in the formats phone data-collection apps export: Edge Impulse's data acquisition
format (JSON and CBOR, signed and unsigned) and Sensor Logger's zip, over a real server."""

from __future__ import annotations

import io
import zipfile

import httpx
import numpy as np
import pytest

from core.migrate import upgrade
from core.settings import Settings
from tests.support.phone_formats import (
    HMAC_KEY,
    RECORDING_START_NS,
    accelerometer_signal,
    edge_impulse_file,
    gyroscope_signal,
    sensor_logger_zip,
    tampered,
)
from tests.support.problems import problem
from tests.support.servers import LiveServer

EI_VALUES = [[-9.81, 0.03, 1.21], [-9.83, 0.04, 1.27], [-9.12, 0.03, 1.23], [-9.14, 0.01, 1.25]]
CONTENT_TYPE = {False: "application/json", True: "application/cbor"}


@pytest.fixture
def signing_api(tmp_path):
    """A server configured with an Edge Impulse HMAC key: it checks signatures."""
    settings = Settings(home=tmp_path / "signing", workers=0, edge_impulse_hmac_key=HMAC_KEY)
    settings.home.mkdir()
    upgrade(settings.resolved_database_url)
    with LiveServer(settings) as live, httpx.Client(base_url=live.url, timeout=60) as client:
        yield client


def post(api, body: bytes, content_type: str, **params):
    return api.post(
        "/v1/sessions", content=body, headers={"Content-Type": content_type}, params=params
    )


def samples(api, session_id: str) -> dict:
    response = api.get(f"/v1/sessions/{session_id}/samples", headers={"Accept": "application/json"})
    assert response.status_code == 200, response.text
    return response.json()


def nothing_stored(api) -> bool:
    return api.get("/v1/sessions").json()["total"] == 0


@pytest.mark.parametrize("cbor", [False, True], ids=["json", "cbor"])
def test_unsigned_edge_impulse_file_becomes_one_session(api, cbor):
    body = edge_impulse_file(signed=False, cbor=cbor)
    response = post(
        api, body, CONTENT_TYPE[cbor], session_id="wave-001", activity="wave", subject="ana"
    )
    assert response.status_code == 201, response.text
    [entry] = response.json()["sessions"]
    assert entry["features"] == ["accX", "accY", "accZ"] and entry["rows"] == 4
    session = api.get("/v1/sessions/wave-001").json()
    assert session["sample_rate_hz"] == 100.0  # interval_ms 10
    assert (session["activity"], session["subject"]) == ("wave", "ana")
    assert session["source"].startswith("edge-impulse DISCO-L475VG-IOT01A")
    assert samples(api, "wave-001")["samples"] == EI_VALUES


@pytest.mark.integration
@pytest.mark.parametrize("cbor", [False, True], ids=["json", "cbor"])
def test_signed_edge_impulse_file_is_verified_and_stored(signing_api, cbor):
    body = edge_impulse_file(signed=True, cbor=cbor)
    response = post(signing_api, body, CONTENT_TYPE[cbor], session_id="s1", activity="idle")
    assert response.status_code == 201, response.text
    assert samples(signing_api, "s1")["samples"] == EI_VALUES


@pytest.mark.integration
@pytest.mark.parametrize("cbor", [False, True], ids=["json", "cbor"])
def test_a_changed_signed_file_is_refused_and_nothing_stored(signing_api, cbor):
    body = tampered(edge_impulse_file(signed=True, cbor=cbor))
    body_problem = problem(
        post(signing_api, body, CONTENT_TYPE[cbor], session_id="s1", activity="idle"), 422
    )
    assert "signature does not match" in body_problem["detail"]
    assert nothing_stored(signing_api)


@pytest.mark.integration
def test_a_file_signed_with_another_key_is_refused(signing_api):
    body = edge_impulse_file(signed=True, cbor=False, key="another-project-key")
    detail = problem(
        post(signing_api, body, "application/json", session_id="s1", activity="idle"), 422
    )["detail"]
    assert "signed with another HMAC key" in detail
    assert nothing_stored(signing_api)


@pytest.mark.integration
def test_an_unsigned_file_is_refused_when_the_server_checks_signatures(signing_api):
    body = edge_impulse_file(signed=False, cbor=True)
    detail = problem(
        post(signing_api, body, "application/cbor", session_id="s1", activity="idle"), 422
    )["detail"]
    assert "MOTIONLAB_EDGE_IMPULSE_HMAC_KEY" in detail and "unsigned" in detail
    assert nothing_stored(signing_api)


def test_edge_impulse_file_names_give_id_and_label(api):
    """Edge Impulse's uploader convention: `label.anything.json` is labelled `label`."""
    files = [
        (
            "files",
            ("idle.01.json", edge_impulse_file(signed=False, cbor=False), "application/json"),
        ),
        ("files", ("wave.02.cbor", edge_impulse_file(signed=True, cbor=True), "application/cbor")),
    ]
    response = api.post("/v1/sessions", files=files)
    assert response.status_code == 201, response.text
    assert api.get("/v1/sessions/idle.01").json()["activity"] == "idle"
    assert api.get("/v1/sessions/wave.02").json()["activity"] == "wave"


def test_format_parameter_overrides_the_content_type(api):
    body = edge_impulse_file(signed=False, cbor=True)
    response = post(
        api,
        body,
        "application/octet-stream",
        format="edge-impulse",
        session_id="c1",
        activity="idle",
    )
    assert response.status_code == 201, response.text


def test_edge_impulse_file_without_an_id_names_the_fix(api):
    body = edge_impulse_file(signed=False, cbor=False)
    assert (
        "?session_id=" in problem(post(api, body, "application/json", activity="x"), 422)["detail"]
    )


def test_sensor_logger_zip_with_unequal_rates_becomes_one_aligned_session(api):
    """Accelerometer at ~100 Hz and gyroscope at ~50 Hz, jittered, starting and ending at
    different times → one session on a regular 100 Hz grid over the time both cover, each
    sensor interpolated onto it (the signals are linear in time: exact at every instant)."""
    body = sensor_logger_zip(accel_hz=100, gyro_hz=50)
    response = post(api, body, "application/zip", session_id="walk-1", activity="walking")
    assert response.status_code == 201, response.text
    [entry] = response.json()["sessions"]
    # Accelerometer.csv is user acceleration (gravity removed) in m/s², the gyroscope rad/s.
    assert entry["features"] == ["userAccelX", "userAccelY", "userAccelZ", "rotX", "rotY", "rotZ"]
    assert entry["channels"] == {
        **{f"userAccel{a.upper()}": f"user_acceleration.{a}:m/s2" for a in "xyz"},
        **{f"rot{a.upper()}": f"gyroscope.{a}:rad/s" for a in "xyz"},
    }
    session = api.get("/v1/sessions/walk-1").json()
    assert session["sample_rate_hz"] == 100.0  # the fastest sensor's rate
    assert "Ana's iPhone ios" in session["source"]

    stored = samples(api, "walk-1")
    assert stored["columns"][0] == "timestamp"
    table = np.array(stored["samples"])  # (T, 1 + 6)
    grid_s = table[:, 0]
    np.testing.assert_allclose(np.diff(grid_s), 0.01, atol=1e-12)
    archive = zipfile.ZipFile(io.BytesIO(body))
    first_ns, last_ns = [], []
    for name in ("Accelerometer.csv", "Gyroscope.csv"):
        lines = archive.read(name).decode().splitlines()[1:]
        first_ns.append(int(lines[0].split(",")[0]))
        last_ns.append(int(lines[-1].split(",")[0]))
    start_s = (max(first_ns) - RECORDING_START_NS) / 1e9  # the time both sensors cover
    end_s = (min(last_ns) - RECORDING_START_NS) / 1e9
    assert len(grid_s) == int((end_s - start_s) * 100) + 1
    t_s = start_s + grid_s
    expected = np.column_stack([*accelerometer_signal(t_s), *gyroscope_signal(t_s)])
    np.testing.assert_allclose(table[:, 1:], expected, atol=1e-9)


def test_sensor_logger_rate_can_be_chosen(api):
    body = sensor_logger_zip(accel_hz=100, gyro_hz=50, seconds=2)
    response = post(
        api, body, "application/zip", session_id="w", activity="walking", sample_rate_hz=25
    )
    assert response.status_code == 201, response.text
    grid_s = np.array(samples(api, "w")["samples"])[:, 0]
    np.testing.assert_allclose(np.diff(grid_s), 0.04, atol=1e-12)


def test_sensor_logger_zip_as_a_file_is_named_after_it(api):
    body = sensor_logger_zip(seconds=1)
    files = [("files", ("2023-10-28_13-52-24.zip", body, "application/zip"))]
    response = api.post("/v1/sessions", params={"activity": "walking"}, files=files)
    assert response.status_code == 201, response.text
    assert response.json()["sessions"][0]["id"] == "2023-10-28_13-52-24"


def test_sensor_logger_zip_without_an_accelerometer_says_so(api):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("Gyroscope.csv", "time,seconds_elapsed,z,y,x\n1,0,0,0,0\n2,0,0,0,0\n")
    detail = problem(
        post(api, out.getvalue(), "application/zip", session_id="a", activity="b"), 422
    )["detail"]
    assert "Accelerometer.csv or TotalAcceleration.csv" in detail and "Gyroscope.csv" in detail
    assert nothing_stored(api)


def test_a_broken_zip_is_a_malformed_body(api):
    problem(
        post(api, b"PK\x03\x04 not really a zip", "application/zip", session_id="a", activity="b"),
        400,
    )
    problem(post(api, b"\xff\x00garbage", "application/cbor", session_id="a", activity="b"), 400)


def test_sensor_rows_out_of_time_order_align_the_same(api):
    """A file whose rows are not in time order (rewritten by another tool) gives the same
    session as the app's own export."""
    body = sensor_logger_zip(seconds=2)
    archive = zipfile.ZipFile(io.BytesIO(body))
    shuffled = io.BytesIO()
    with zipfile.ZipFile(shuffled, "w") as out:
        for name in archive.namelist():
            lines = archive.read(name).decode().splitlines(keepends=True)
            if name == "Gyroscope.csv":
                lines = lines[:1] + lines[:0:-1]  # header, then the rows backwards
            out.writestr(name, "".join(lines))
    for session_id, data in (("ordered", body), ("backwards", shuffled.getvalue())):
        response = post(api, data, "application/zip", session_id=session_id, activity="walking")
        assert response.status_code == 201, response.text
    assert samples(api, "ordered")["samples"] == samples(api, "backwards")["samples"]
