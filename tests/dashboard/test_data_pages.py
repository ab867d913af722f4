"""The data pages and the API docs in Chromium: what is stored, a session's signals, offline."""

from __future__ import annotations

import numpy as np

from tests.support.browser import TOKENS, WatchedPage, chart
from tests.support.phone_formats import phone_motion
from tests.support.runs import upload_tiny

ACTIVITIES = ["Badminton", "Running", "Standing", "Walking"]
FEATURES = ["accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ"]


def test_the_data_page_charts_the_four_basicmotions_activities(reader, dashboard):
    reader.open("/", "#sessions tbody tr")
    stats = dashboard.api.get("/v1/stats").json()
    activities = chart(reader.page, "sessions-by_activity")
    assert activities["labels"] == ACTIVITIES
    assert activities["datasets"][0]["data"] == [20, 20, 20, 20]
    assert activities["datasets"][0]["drawn"] == 4
    splits = chart(reader.page, "sessions-by_split")
    assert dict(zip(splits["labels"], splits["datasets"][0]["data"], strict=True)) == {
        split: group["sessions"] for split, group in stats["by_split"].items()
    }
    assert reader.page.text_content("#totals").startswith("80 sessions · 8000 rows")
    # BasicMotions is balanced, but its accelerometer does not read 1 g at rest (gravity removed,
    # unit unstated): the unit checks say so, and the page shows the data checks' warnings.
    [unit_warning] = stats["warnings"]
    assert "contradict their units" in unit_warning
    assert reader.page.locator("#warnings li").all_inner_texts() == stats["warnings"]
    assert reader.page.locator("#sessions tbody tr").count() == 25  # the first page of 80
    reader.screenshot("data")
    reader.page.click("text=next")
    reader.page.wait_for_selector("text=26–50 of 80")
    reader.assert_clean()


def test_a_session_page_draws_its_six_signals_over_time(reader, dashboard):
    reader.open("/", "#sessions tbody tr")
    reader.page.click("a[href='/sessions/test-000']")
    reader.page.wait_for_selector("#session-facts")
    reader.page.wait_for_function("Chart.getChart(document.getElementById('signals'))")
    samples = dashboard.api.get(
        "/v1/sessions/test-000/samples", headers={"Accept": "application/json"}
    ).json()
    signals = chart(reader.page, "signals")
    assert [d["label"] for d in signals["datasets"]] == FEATURES
    for dataset in signals["datasets"]:
        assert dataset["drawn"] == 100  # one point per sample
    time, rot_z = samples["columns"].index("timestamp"), samples["columns"].index("rotZ")
    assert signals["datasets"][5]["data"][:3] == [
        {"x": row[time], "y": row[rot_z]} for row in samples["samples"][:3]
    ]
    facts = reader.page.text_content("#session-facts")
    session = dashboard.api.get("/v1/sessions/test-000").json()
    assert session["activity"] in facts and "10.0" in facts  # its label, rate and duration
    channels = reader.page.locator("#session-channels tbody tr").all_inner_texts()
    assert channels[0].split("\t") == ["accelX", "accelerometer", "x", "g", "accelX", "g"]
    assert channels[5].split("\t") == ["rotZ", "gyroscope", "z", "rad/s", "rotZ", "rad/s"]
    reader.screenshot("session")
    reader.assert_clean()


def test_without_a_token_the_page_asks_for_one(visitor):
    visitor.expected_statuses = {401}
    visitor.open("/", "#notice:not([hidden])")
    assert "needs a token with scope 'read'" in visitor.page.text_content("#notice")
    visitor.page.fill("#token-input", TOKENS["read"])
    visitor.page.click("#token-form button")
    visitor.page.wait_for_selector("#sessions tbody tr")
    assert visitor.page.text_content("#token-state") == "set for this tab"
    visitor.assert_clean()


def test_swagger_ui_and_redoc_render_offline(visitor):
    visitor.open("/docs", ".opblock-summary-path")
    paths = visitor.page.locator(".opblock-summary-path").all_text_contents()
    assert "/v1/runs/{run_id}/metrics" in [p.replace("\u200b", "") for p in paths]
    visitor.screenshot("docs", full_page=False)
    visitor.open("/redoc", "h1")
    visitor.page.wait_for_function(
        "document.body.innerText.includes('/v1/runs/{run_id}/metrics')", timeout=30_000
    )
    visitor.screenshot("redoc", full_page=False)
    visitor.assert_clean()


def test_imbalanced_classes_show_as_a_data_check_warning(browser, api, server, tmp_path):
    upload_tiny(api, sessions=8, classes=("walk", "walk", "walk", "wave"))  # 6 walk, 2 wave
    warnings = api.get("/v1/stats").json()["warnings"]
    assert any("imbalanced" in warning for warning in warnings)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        local = WatchedPage(context.new_page(), server.url, tmp_path)  # no tokens: loopback
        local.open("/", "#sessions tbody tr")
        assert local.page.locator("#warnings li").all_inner_texts() == warnings
        local.screenshot("data-warnings")
        local.assert_clean()
    finally:
        context.close()


def test_each_session_s_channels_units_and_unit_warnings_are_shown(browser, api, server, tmp_path):
    """A gyroscope in deg/s declared as rad/s: the list and the session page say what each
    column holds, in which unit, and that its values contradict the unit."""
    t = np.arange(200) / 50
    rows = np.rad2deg(phone_motion("wave", t)["rotation"])  # (200, 3) deg/s
    body = "gyro_x,gyro_y,gyro_z\n" + "\n".join(",".join(f"{v:.6f}" for v in r) for r in rows)
    declared = ",".join(f"gyro_{axis}=gyroscope.{axis}:rad/s" for axis in "xyz")
    response = api.post(
        "/v1/sessions",
        params={"session_id": "wave-1", "activity": "wave", "channels": declared},
        content=body.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    [warning] = api.get("/v1/sessions/wave-1").json()["warnings"]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        local = WatchedPage(context.new_page(), server.url, tmp_path)  # no tokens: loopback
        local.open("/", "#sessions tbody tr")
        [row] = local.page.locator("#sessions tbody tr").all_inner_texts()
        assert "gyroscope x y z (rad/s)" in row and "1 ⚠" in row, row
        assert "rotX, rotY, rotZ" in local.page.text_content("#by-channels")
        local.page.click("a[href='/sessions/wave-1']")
        local.page.wait_for_selector("#session-channels")
        rows = local.page.locator("#session-channels tbody tr").all_inner_texts()
        cells = [r.split("\t") for r in rows]
        assert cells[0] == ["gyro_x", "gyroscope", "x", "rad/s", "rotX", "rad/s"]
        assert [c[4] for c in cells] == ["rotX", "rotY", "rotZ"]
        assert local.page.locator("#session-warnings li").all_inner_texts() == [warning]
        local.screenshot("session-channels")
        local.assert_clean()
    finally:
        context.close()
