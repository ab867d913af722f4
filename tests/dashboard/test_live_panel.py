"""The run page's live panel in Chromium: a stored session replayed through the run's live
classification WebSocket shows predict's windows, one by one."""

from __future__ import annotations

import json

import numpy as np


def test_a_replayed_session_shows_the_windows_predict_gives(developer, dashboard, quick_run):
    run_id = quick_run
    recording = dashboard.api.get("/v1/sessions/test-035/samples").text  # Badminton, 100 rows
    expected = dashboard.api.post(
        f"/v1/runs/{run_id}/predict",
        params={"output_frequency": "per_window", "output_type": "probability_vector"},
        content=recording,
        headers={"Content-Type": "text/csv"},
    ).json()
    developer.open(f"/runs/{run_id}", "#live-replay")
    developer.page.wait_for_selector("#live-session option[value='test-035']", state="attached")
    developer.page.select_option("#live-session", "test-035")
    developer.page.select_option("#live-speed", "100")  # 10 Hz × 100: a second
    developer.page.click("#live-replay")
    developer.page.wait_for_selector("#live-state[data-state='ended']", timeout=60_000)

    rows = developer.page.locator("#live-predictions tbody tr")
    cells = [row.split("\t") for row in rows.all_inner_texts()]
    shown = [json.loads(p) for p in rows.evaluate_all("rs => rs.map(r => r.dataset.probabilities)")]
    windows = expected["predictions"]
    classes = np.array(expected["classes"])
    probabilities = np.array(windows["probability_vector"])  # (10, C)
    assert [int(c[0]) for c in cells] == windows["window"] == list(range(10))
    assert [int(c[1]) for c in cells] == windows["first_row"]
    assert [c[3] for c in cells] == classes[probabilities.argmax(axis=1)].tolist()
    np.testing.assert_allclose(shown, probabilities, rtol=0, atol=1e-5)
    assert developer.page.text_content("#live-state") == "10 windows of 100 rows"
    assert developer.page.locator("#live-bars .live-bar").count() == len(classes)
    developer.page.locator("#live-predictions").scroll_into_view_if_needed()
    developer.screenshot("live")
    developer.assert_clean()
