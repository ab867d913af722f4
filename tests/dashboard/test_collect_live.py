"""/collect's live mode in a phone-sized Chromium tab: a stored recording replayed as the
phone's devicemotion events (m/s², deg/s) through a registered model's `production` alias shows
the class and probability that predict gives for the same rows."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tests.support.browser import TOKENS

pytestmark = pytest.mark.system  # Chromium, and a run trained on BasicMotions

STANDARD_GRAVITY = 9.80665
REPLAY = """(rows) => {
  for (const [ax, ay, az, rx, ry, rz] of rows) {
    window.dispatchEvent(new DeviceMotionEvent("devicemotion", {
      accelerationIncludingGravity: { x: ax, y: ay, z: az },
      rotationRate: { beta: rx, gamma: ry, alpha: rz },  // alpha turns about z
      interval: 100,
    }));
  }
}"""
FEATURES = ["accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ"]


def test_live_mode_shows_the_class_predict_gives_for_a_replayed_recording(
    phone, dashboard, quick_run
):
    api = dashboard.api
    version = api.post("/v1/models/phone-live/versions", json={"run_id": quick_run})
    assert version.status_code == 201, version.text
    promoted = api.put(
        "/v1/models/phone-live/aliases/production", json={"version": version.json()["version"]}
    )
    assert promoted.status_code == 200, promoted.text
    recording = api.get("/v1/sessions/test-035/samples").text  # Badminton, 100 rows at 10 Hz
    expected = api.post(
        f"/v1/runs/{quick_run}/predict",
        params={"output_frequency": "per_window", "output_type": "probability_vector"},
        content=recording,
        headers={"Content-Type": "text/csv"},
    ).json()
    samples = api.get(
        "/v1/sessions/test-035/samples", headers={"Accept": "application/json"}
    ).json()
    values = np.array(samples["samples"])[:, [samples["columns"].index(f) for f in FEATURES]]
    # What the phone's browser reports: acceleration in m/s², rotation rate in deg/s.
    device = values * ([STANDARD_GRAVITY] * 3 + [180 / math.pi] * 3)

    live = phone()
    live.expected_statuses.add(403)  # GET /v1/labels is the upload scope's; typing still works
    live.open(f"/collect#token={TOKENS['developer']}", "body[data-ready]")
    live.page.click("#mode-live")
    live.page.fill("#live-model", "phone-live")
    live.page.click("#live-start")
    live.page.wait_for_selector("#live-state[data-state='streaming']")
    live.page.evaluate(REPLAY, device.tolist())
    last = len(expected["predictions"]["window"]) - 1
    live.page.wait_for_selector(f"#live-class[data-window='{last}']", timeout=30_000)

    probabilities = np.array(expected["predictions"]["probability_vector"][last])
    best = expected["classes"][int(probabilities.argmax())]
    assert live.page.text_content("#live-class") == best
    assert live.page.text_content("#live-probability") == f"{100 * probabilities.max():.0f}%"
    shown = json.loads(live.page.get_attribute("#live-class", "data-probabilities"))
    np.testing.assert_allclose(shown, probabilities, rtol=0, atol=1e-5)
    live.screenshot("collect-live", full_page=False)
    live.page.click("#live-stop")
    live.assert_clean()
