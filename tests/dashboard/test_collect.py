"""/collect on a phone-sized Chromium tab: synthetic `devicemotion` events recorded, kept and
uploaded; the offline queue; the messages for plain HTTP and refused motion access."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.browser import LAN_NAME, TOKENS

pytestmark = [pytest.mark.system, pytest.mark.usefixtures("restore_sessions")]  # adds sessions

# The values of event i, per channel: what the test dispatches and what the server must hold.
MOTION = """(i) => ({
  accelerationIncludingGravity: {x: Math.sin(i / 7), y: Math.cos(i / 5) * 2, z: 9.81 + i / 1000},
  acceleration: {x: Math.sin(i / 3) / 4, y: -i / 500, z: 0.125},
  rotationRate: {alpha: 30 * Math.cos(i / 9), beta: -45 + i / 10, gamma: 2.5},
})"""
DISPATCH = f"""([count, first, intervalMs]) => {{
  const motion = {MOTION};
  for (let i = first; i < first + count; i++) {{
    const init = {{ ...motion(i), interval: intervalMs }};
    window.dispatchEvent(new DeviceMotionEvent("devicemotion", init));
  }}
}}"""
COLUMNS = ["accelX", "accelY", "accelZ", "userAccelX", "userAccelY", "userAccelZ"]
COLUMNS += ["rotX", "rotY", "rotZ"]


def expected_rows(count: int) -> np.ndarray:
    i = np.arange(count, dtype=float)
    return np.column_stack([
        np.sin(i / 7), np.cos(i / 5) * 2, 9.81 + i / 1000,
        np.sin(i / 3) / 4, -i / 500, np.full(count, 0.125),
        -45 + i / 10, np.full(count, 2.5), 30 * np.cos(i / 9),
    ])  # fmt: skip


def open_recorder(phone, path: str = f"/collect#token={TOKENS['uploader']}"):
    phone.open(path, "body[data-ready] #start:not([disabled])")
    return phone


def record(phone, *, activity: str, events: int, interval_ms: float, subject: str = "") -> None:
    """Fill in the labels, start (no countdown), dispatch `events` devicemotion events, stop."""
    page = phone.page
    page.fill("#activity", activity)
    page.fill("#subject", subject)
    page.select_option("#countdown", "0")
    page.click("#start")
    page.wait_for_selector("#stop", state="visible")
    page.evaluate(DISPATCH, [events, 0, interval_ms])
    page.click("#stop")
    page.wait_for_selector("#keep", state="visible")


def stored_ids(phone) -> list[str]:
    texts = phone.page.locator("#uploaded li").all_inner_texts()
    return [text.split(" ")[0] for text in texts]


@pytest.mark.parametrize("rate_hz", [50, 100])
def test_a_recording_is_stored_with_the_rate_channels_and_values_dispatched(
    phone, dashboard, rate_hz
):
    recorder = open_recorder(phone())
    events = 3 * rate_hz  # three seconds of the device's samples
    record(
        recorder,
        activity=f"waving-{rate_hz}",
        subject="ana",
        events=events,
        interval_ms=1000 / rate_hz,
    )
    summary = recorder.page.text_content("#summary")
    assert f"3.0 s, {events} samples at {rate_hz} Hz (9 channels)" in summary
    recorder.screenshot(f"collect-review-{rate_hz}hz", full_page=False)
    recorder.page.click("#keep")
    recorder.page.wait_for_selector("#uploaded li")
    recorder.page.wait_for_selector("#queue-state[data-waiting='0']")
    [session_id] = stored_ids(recorder)

    session = dashboard.api.get(f"/v1/sessions/{session_id}").json()
    assert (session["activity"], session["subject"]) == (f"waving-{rate_hz}", "ana")
    assert session["sample_rate_hz"] == rate_hz
    assert session["row_count"] == events and session["has_timestamp"]
    assert session["warnings"] == []  # the unit checks agree with the declared units
    units = {c["column"]: (c["sensor"], c["axis"], c["unit"]) for c in session["channels"]}
    assert units == {
        **{f"accel{a.upper()}": ("accelerometer", a, "m/s2") for a in "xyz"},
        **{f"userAccel{a.upper()}": ("user_acceleration", a, "m/s2") for a in "xyz"},
        **{f"rot{a.upper()}": ("gyroscope", a, "deg/s") for a in "xyz"},
    }
    samples = dashboard.api.get(
        f"/v1/sessions/{session_id}/samples", headers={"Accept": "application/json"}
    ).json()
    values = np.array(samples["samples"], dtype=float)
    positions = [samples["columns"].index(c) for c in COLUMNS]
    np.testing.assert_allclose(values[:, positions], expected_rows(events), rtol=0, atol=1e-12)
    timestamps = values[:, samples["columns"].index("timestamp")]
    assert (np.diff(timestamps) >= 0).all()
    recorder.assert_clean()


def count_stored(dashboard, activity: str) -> int:
    return dashboard.api.get("/v1/sessions", params={"activity": activity}).json()["total"]


def test_recordings_made_offline_are_uploaded_once_when_the_network_returns(phone, dashboard):
    recorder = open_recorder(phone())
    recorder.expected_failures.add("/v1/sessions")
    recorder.expected_console.add("net::ERR_INTERNET_DISCONNECTED")
    recorder.context.set_offline(True)
    for _ in range(2):
        record(recorder, activity="offline-walk", events=100, interval_ms=20)
        recorder.page.click("#keep")
    recorder.page.wait_for_selector("#queue-state[data-waiting='2']")
    assert "2 recording(s) waiting to upload" in recorder.page.text_content("#queue-state")
    recorder.screenshot("collect-offline", full_page=False)
    assert count_stored(dashboard, "offline-walk") == 0

    recorder.context.set_offline(False)  # the page's `online` event uploads the queue
    recorder.page.wait_for_selector("#queue-state[data-waiting='0']", timeout=30_000)
    assert len(set(stored_ids(recorder))) == 2
    assert count_stored(dashboard, "offline-walk") == 2
    recorder.assert_clean()


def test_an_upload_whose_answer_is_lost_is_sent_again_and_stored_once(phone, dashboard):
    recorder = open_recorder(phone())
    recorder.expected_failures.add("/v1/sessions")
    recorder.expected_console.add("net::ERR_FAILED")
    answers_lost = []

    def lose_the_first_answer(route):
        if route.request.method == "POST" and not answers_lost:
            answers_lost.append(route.fetch().status)  # the server stores it …
            route.abort()  # … and the phone never hears back
        else:
            route.continue_()

    recorder.page.route("**/v1/sessions", lose_the_first_answer)
    record(recorder, activity="lost-answer", events=60, interval_ms=10)
    recorder.page.click("#keep")
    recorder.page.wait_for_selector("#queue-state[data-waiting='1']")
    assert answers_lost == [201]
    assert count_stored(dashboard, "lost-answer") == 1

    recorder.page.evaluate("window.dispatchEvent(new Event('online'))")  # as the network returns
    recorder.page.wait_for_selector("#queue-state[data-waiting='0']")
    assert len(stored_ids(recorder)) == 1
    assert count_stored(dashboard, "lost-answer") == 1
    recorder.assert_clean()


def test_plain_http_says_that_motion_sensors_need_https(phone, dashboard):
    lan_url = dashboard.url.replace("127.0.0.1", LAN_NAME)
    recorder = phone(base_url=lan_url)
    recorder.open(f"/collect#token={TOKENS['uploader']}", "#problem:not([hidden])")
    problem = recorder.page.text_content("#problem")
    assert f"This page is open over plain HTTP ({lan_url})" in problem
    assert "motionlab serve --tls-cert" in problem
    assert recorder.page.is_disabled("#start")
    recorder.screenshot("collect-plain-http", full_page=False)
    recorder.assert_clean()


def test_refused_motion_access_says_how_to_allow_it(phone):
    recorder = phone()
    # iOS Safari's permission prompt, answered "Don't Allow" (Chromium has no such prompt).
    recorder.context.add_init_script("DeviceMotionEvent.requestPermission = async () => 'denied'")
    open_recorder(recorder)
    recorder.page.fill("#activity", "walking")
    recorder.page.click("#start")
    recorder.page.wait_for_selector("#problem:not([hidden])")
    assert "Motion access was refused" in recorder.page.text_content("#problem")
    assert recorder.page.is_hidden("#recording")
    recorder.assert_clean()


def test_the_page_opens_offline_once_loaded(phone):
    recorder = open_recorder(phone(service_workers="allow"))
    # The service worker has cached the page and its scripts, and controls the page.
    recorder.page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=30_000)
    recorder.expected_failures.update({"/collect", "/v1/labels", "/static/"})
    recorder.expected_console.add("net::ERR_INTERNET_DISCONNECTED")
    recorder.context.set_offline(True)
    recorder.page.reload()
    recorder.page.wait_for_selector("#start:not([disabled])")
    assert recorder.page.title() == "Record · motionlab"


def test_the_dashboard_s_qr_code_lets_a_phone_upload_until_the_token_is_revoked(
    tab, phone, dashboard
):
    admin = tab(TOKENS["admin"])
    admin.open("/tokens", "#tokens")
    admin.page.select_option("#collect-minutes", "15")
    admin.page.fill("#collect-name", "qr-phone")
    admin.page.click("#collect-create")
    admin.page.wait_for_selector("#collect-qr img")
    collect_url = admin.page.get_attribute("#collect-url", "href")
    assert collect_url.startswith(f"{dashboard.url}/collect#token=mlt_")
    admin.page.wait_for_selector("#tokens td:text-is('qr-phone')")
    admin.screenshot("tokens-qr")

    recorder = phone()
    recorder.page.goto(collect_url)  # what the phone's camera opens
    recorder.page.wait_for_selector("body[data-ready] #start:not([disabled])")
    assert "#token" not in recorder.page.url  # taken out of the address bar
    record(recorder, activity="qr-wave", events=50, interval_ms=20)
    recorder.page.click("#keep")
    recorder.page.wait_for_selector("#uploaded li:has-text('qr-wave')")
    assert count_stored(dashboard, "qr-wave") == 1

    token_id = collect_url.split("mlt_")[1].split("_")[0]
    admin.page.click(f"button.revoke[data-token='{token_id}']")
    admin.page.wait_for_selector("#notice.success")
    assert "revoked" in admin.page.text_content("#notice")
    admin.page.wait_for_selector("#tokens td:text-is('qr-phone')", state="detached")

    recorder.expected_statuses.add(401)
    record(recorder, activity="qr-wave", events=50, interval_ms=20)
    recorder.page.click("#keep")
    recorder.page.wait_for_selector("#problem[data-kind='upload']:not([hidden])")
    assert "Scan the dashboard's QR code again" in recorder.page.text_content("#problem")
    assert recorder.page.get_attribute("#queue-state", "data-waiting") == "1"  # kept, not lost
    assert count_stored(dashboard, "qr-wave") == 1
    admin.assert_clean()
    recorder.assert_clean()


def test_the_tokens_page_says_it_needs_admin_to_a_reader(reader):
    reader.expected_statuses.add(403)
    reader.open("/tokens", "#notice:not([hidden])")
    assert "needs 'admin'" in reader.page.text_content("#notice")
    reader.assert_clean()


def test_an_admin_creates_a_token_whose_secret_is_shown_once(tab, dashboard):
    admin = tab(TOKENS["admin"])
    admin.open("/tokens", "#tokens")
    admin.page.fill("#token-name", "ci-reader")
    admin.page.check("input.scope[value='read']")
    admin.page.click("#token-create")
    secret = admin.page.wait_for_selector("#new-token-secret").text_content()
    admin.page.wait_for_selector("#tokens td:text-is('ci-reader')")
    assert dashboard.api.get(
        "/v1/sessions", headers={"Authorization": f"Bearer {secret}"}
    ).is_success
    admin.page.reload()
    admin.page.wait_for_selector("#tokens td:text-is('ci-reader')")
    assert secret not in admin.page.content()  # shown that once
    admin.assert_clean()


def test_a_qr_code_made_in_a_project_records_into_that_project_only(tab, phone, dashboard):
    assert dashboard.api.post("/v1/projects", json={"name": "qr-gestures"}).status_code == 201
    try:
        admin = tab(TOKENS["admin"])
        admin.open("/tokens", "#tokens")
        admin.page.fill("#project-input", "qr-gestures")  # the dashboard's project switcher
        admin.page.click("#project-form button")
        admin.page.wait_for_selector("#tokens")
        admin.page.click("#collect-create")
        admin.page.wait_for_selector("#collect-qr img")
        collect_url = admin.page.get_attribute("#collect-url", "href")
        assert collect_url.endswith("&project=qr-gestures")

        recorder = phone()
        recorder.page.goto(collect_url)
        recorder.page.wait_for_selector("body[data-ready] #start:not([disabled])")
        record(recorder, activity="qr-project-wave", events=50, interval_ms=20)
        recorder.page.click("#keep")
        recorder.page.wait_for_selector("#uploaded li:has-text('qr-project-wave')")
        in_project = dashboard.api.get(
            "/v1/projects/qr-gestures/sessions", params={"activity": "qr-project-wave"}
        ).json()
        assert in_project["total"] == 1
        assert count_stored(dashboard, "qr-project-wave") == 0  # nothing in the default project
        token = collect_url.split("#token=")[1].split("&")[0]
        elsewhere = dashboard.api.post(
            "/v1/sessions?session_id=qr-elsewhere&activity=x",
            content=b"x,y\n1,2\n3,4\n",
            headers={"Content-Type": "text/csv", "Authorization": f"Bearer {token}"},
        )
        assert elsewhere.status_code == 404  # the QR token works in its project only
        admin.assert_clean()
        recorder.assert_clean()
    finally:
        assert dashboard.api.delete("/v1/projects/qr-gestures").status_code == 204
