"""The dashboard acts: upload files, start a run, register a run, delete a session or a run;
each with the scope it needs, and said plainly when a read-only token is refused."""

from __future__ import annotations

import pytest

from tests.support.browser import TOKENS

pytestmark = [pytest.mark.system, pytest.mark.usefixtures("restore_sessions")]  # adds sessions

TWO_FILES = [
    {"name": "wave-1.csv", "mimeType": "text/csv", "buffer": b"x,y,z\n1,2,3\n4,5,6\n7,8,9\n"},
    {"name": "wave-2.csv", "mimeType": "text/csv", "buffer": b"x,y,z\n3,2,1\n6,5,4\n9,8,7\n"},
]


def assert_stored_with_progress(admin, dashboard) -> None:
    """The upload's line shows a full progress bar and the stored sessions, which the API lists."""
    admin.page.wait_for_selector("#upload-list li[data-state='stored']")
    progress = admin.page.eval_on_selector_all(
        "#upload-list progress", "bars => bars.map(b => b.value)"
    )
    assert progress == [1]
    assert "stored: wave-1, wave-2" in admin.page.text_content("#upload-list")
    listed = dashboard.api.get("/v1/sessions", params={"activity": "dash-wave"}).json()
    assert sorted(s["id"] for s in listed["items"]) == ["wave-1", "wave-2"]


def test_files_chosen_on_the_data_page_are_uploaded_with_progress(tab, dashboard):
    admin = tab(TOKENS["admin"])
    admin.open("/", "#sessions")
    admin.page.fill("#upload-activity", "dash-wave")
    admin.page.set_input_files("#upload-files", files=TWO_FILES)
    assert_stored_with_progress(admin, dashboard)
    admin.screenshot("upload")
    admin.assert_clean()


# Drags files onto the zone as a browser does: dragenter, dragover, drop, one DataTransfer
# holding the files; answers whether the page took each event (else the browser opens the file).
DROP_FILES = """([zone, files]) => {
    const carried = new DataTransfer();
    for (const f of files) carried.items.add(new File([f.text], f.name, { type: "text/csv" }));
    return ["dragenter", "dragover", "drop"].map((type) => {
        const init = { bubbles: true, cancelable: true, dataTransfer: carried };
        return !zone.dispatchEvent(new DragEvent(type, init));
    });
}"""


def test_files_dropped_on_the_data_page_are_uploaded_with_progress(tab, dashboard):
    admin = tab(TOKENS["admin"])
    admin.open("/", "#sessions")
    admin.page.fill("#upload-activity", "dash-wave")
    zone = admin.page.query_selector("#drop-zone")
    files = [{"name": f["name"], "text": f["buffer"].decode()} for f in TWO_FILES]
    taken = admin.page.evaluate(DROP_FILES, [zone, files])
    assert taken == [True, True, True]
    assert_stored_with_progress(admin, dashboard)
    assert "over" not in (zone.get_attribute("class") or "")
    admin.assert_clean()


def test_a_read_token_is_told_that_uploading_needs_upload(reader, dashboard):
    reader.expected_statuses.add(403)
    reader.open("/", "#sessions")
    reader.page.set_input_files("#upload-files", files=TWO_FILES[:1])
    reader.page.wait_for_selector("#upload-list li[data-state='refused']")
    assert "needs 'upload'" in reader.page.text_content("#notice")
    reader.assert_clean()


def fill_run_form(tab, **fields: str) -> None:
    """The runs page's form: each field by name (run-<name>), a select's option by value."""
    for name, value in fields.items():
        selector = f"#run-{name}"
        if name in ("engine", "recipe", "target", "split"):
            tab.page.select_option(selector, value)
        else:
            tab.page.fill(selector, value)


def test_a_run_started_from_the_form_opens_its_page(developer, dashboard):
    developer.expected_statuses.add(422)
    developer.open("/runs", "#run-form")
    engines = [e["name"] for e in dashboard.api.get("/v1/engines").json()]
    developer.page.wait_for_function(
        "n => document.querySelectorAll('#run-engine option').length === n", arg=len(engines)
    )
    offered = developer.page.eval_on_selector_all(
        "#run-engine option", "options => options.map(o => o.value)"
    )
    assert offered == engines
    fill_run_form(
        developer,
        experiment="dash-form",
        name="from-the-form",
        engine="turicreate",
        recipe="turicreate",
        target="activity",
        activities="Standing, Walking",
        subjects="nobody",
        splits="train",
        features="accelX, accelY, accelZ",
        window="10",
        iterations="2",
        **{"batch-size": "16"},
        seed="7",
        split="session",
        valid="0.2",
        test="0.1",
    )
    developer.page.click("#run-start")
    developer.page.wait_for_selector("#notice.error")  # BasicMotions has no subjects: the 422
    assert "no session matches the data selection" in developer.page.text_content("#notice")
    developer.page.fill("#run-subjects", "")
    developer.page.click("#run-start")
    developer.page.wait_for_url("**/runs/*")
    run_id = developer.page.url.rsplit("/", 1)[1]
    dashboard.api.post(f"/v1/runs/{run_id}/cancel")  # the worker is the other tests'
    run = dashboard.api.get(f"/v1/runs/{run_id}").json()
    params = run["params"]
    assert (run["experiment"], run["name"], run["engine"], run["recipe"]) == (
        "dash-form",
        "from-the-form",
        "turicreate",
        "turicreate",
    )
    assert params["features"] == ["accelX", "accelY", "accelZ"]
    assert (params["prediction_window"], params["max_iterations"]) == (10, 2)
    assert (params["batch_size"], params["random_seed"], params["target"]) == (16, 7, "activity")
    assert params["data"] == {
        "activities": ["Standing", "Walking"],
        "subjects": None,
        "sessions": None,
        "splits": ["train"],
    }
    split = params["split"]
    assert (split["strategy"], split["valid_fraction"], split["test_fraction"]) == (
        "session",
        0.2,
        0.1,
    )
    developer.assert_clean()


def test_the_run_form_sets_the_exported_model_and_the_overfit_check(developer, dashboard):
    """The rest of `motionlab train`'s flags: --overfit-check, --model-*, --device-units,
    --input-units, --input-names."""
    developer.open("/runs", "#run-form")
    fill_run_form(developer, experiment="dash-model", window="10", iterations="2", overfit="60")
    for name, value in {
        "name": "DashGesture",
        "short-description": "waves and rests",
        "author": "the dashboard test",
        "license": "MIT",
        "version": "1.2",
        "input-units": "rotX=deg/s, rotY=deg/s",
        "input-names": "rotZ=alpha",
    }.items():
        developer.page.fill(f"#model-{name}", value)
    developer.page.select_option("#model-device-units", "web")
    developer.page.click("#run-start")
    developer.page.wait_for_url("**/runs/*")
    run_id = developer.page.url.rsplit("/", 1)[1]
    dashboard.api.post(f"/v1/runs/{run_id}/cancel")  # the worker is the other tests'
    params = dashboard.api.get(f"/v1/runs/{run_id}").json()["params"]
    assert params["overfit_check"] == {"sessions": 60}
    model = params["model"]
    assert (model["name"], model["short_description"], model["author"]) == (
        "DashGesture",
        "waves and rests",
        "the dashboard test",
    )
    assert (model["license"], model["version"], model["device_units"]) == ("MIT", "1.2", "web")
    assert model["input_units"] == {"rotX": "deg/s", "rotY": "deg/s"}
    assert model["input_names"] == {"rotZ": "alpha"}
    developer.assert_clean()


def test_a_read_token_is_told_that_a_run_needs_train(reader):
    reader.expected_statuses.add(403)
    reader.open("/runs", "#run-form")
    reader.page.click("#run-start")
    reader.page.wait_for_selector("#notice:not([hidden])")
    assert "needs 'train'" in reader.page.text_content("#notice")
    reader.assert_clean()


def test_register_a_run_then_deleting_it_shows_the_api_s_409(tab, reader, dashboard, quick_run):
    reader.expected_statuses.add(403)
    reader.open(f"/runs/{quick_run}", "#register")
    reader.page.fill("#register-model", "dash-registered")
    reader.page.click("#register-run")
    reader.page.wait_for_selector("#notice:not([hidden])")
    assert "needs 'admin'" in reader.page.text_content("#notice")

    admin = tab(TOKENS["admin"])
    admin.expected_statuses.add(409)
    admin.page.on("dialog", lambda dialog: dialog.accept())
    admin.open(f"/runs/{quick_run}", "#register")
    admin.page.fill("#register-model", "dash-registered")
    admin.page.click("#register-run")
    admin.page.wait_for_selector("#notice.success")
    assert "dash-registered version 1" in admin.page.text_content("#notice")
    admin.page.click("#delete-run")
    admin.page.wait_for_selector("#notice.error")
    conflict = dashboard.api.delete(f"/v1/runs/{quick_run}")
    assert conflict.status_code == 409
    assert admin.page.text_content("#notice") == conflict.json()["detail"]
    assert dashboard.api.get(f"/v1/runs/{quick_run}").status_code == 200
    reader.assert_clean()
    admin.assert_clean()


def test_a_session_is_deleted_from_its_page_by_an_admin_only(tab, reader, dashboard):
    stored = dashboard.api.post(
        "/v1/sessions?session_id=dash-doomed&activity=wave",
        content=b"x,y\n1,2\n3,4\n",
        headers={"Content-Type": "text/csv"},
    )
    assert stored.status_code == 201
    reader.expected_statuses.add(403)
    reader.page.on("dialog", lambda dialog: dialog.accept())
    reader.open("/sessions/dash-doomed", "#delete-session")
    reader.page.click("#delete-session")
    reader.page.wait_for_selector("#notice:not([hidden])")
    assert "needs 'admin'" in reader.page.text_content("#notice")
    assert dashboard.api.get("/v1/sessions/dash-doomed").status_code == 200

    admin = tab(TOKENS["admin"])
    admin.page.on("dialog", lambda dialog: dialog.accept())
    admin.open("/sessions/dash-doomed", "#delete-session")
    admin.page.click("#delete-session")
    admin.page.wait_for_url(f"{dashboard.url}/")
    assert dashboard.api.get("/v1/sessions/dash-doomed").status_code == 404
    reader.assert_clean()
    admin.assert_clean()


def test_a_sweep_started_from_the_form_shows_its_runs_and_the_best(developer, reader, dashboard):
    reader.expected_statuses.add(403)
    reader.open("/runs", "#run-form")
    reader.page.fill("#sweep-windows", "5, 10")
    reader.page.click("#sweep-start")
    reader.page.wait_for_selector("#notice:not([hidden])")
    assert "needs 'train'" in reader.page.text_content("#notice")

    developer.open("/runs", "#run-form")
    fill_run_form(
        developer,
        experiment="dash-sweep",
        activities="Standing, Walking",
        iterations="2",
        split="session",
        valid="0.25",
    )
    developer.page.fill("#sweep-windows", "5, 10")
    developer.page.click("#sweep-start")
    developer.page.wait_for_url("**/sweeps/*", timeout=120_000)  # each combination is checked
    sweep_id = developer.page.url.rsplit("/", 1)[1]
    developer.page.wait_for_selector("#sweep-counts:has-text('2 succeeded')", timeout=300_000)
    sweep = dashboard.api.get(f"/v1/sweeps/{sweep_id}").json()
    assert sweep["grid"] == {"prediction_window": [5, 10]}
    assert developer.page.locator("#sweep-runs tbody tr").count() == 2
    best = developer.page.locator("#sweep-best a")
    assert best.get_attribute("href") == f"/runs/{sweep['best']['run_id']}"
    developer.screenshot("sweep")
    reader.assert_clean()
    developer.assert_clean()


def test_a_sweep_from_the_form_varies_two_fields(developer, dashboard):
    developer.open("/runs", "#run-form")
    fill_run_form(
        developer, experiment="dash-grid", iterations="2", seed="3", split="session", valid="0.25"
    )
    developer.page.fill("#sweep-windows", "5, 10")
    developer.page.fill("#sweep-recipes", "motionlab, turicreate")
    developer.page.click("#sweep-start")
    developer.page.wait_for_url("**/sweeps/*", timeout=120_000)  # each combination is checked
    sweep_id = developer.page.url.rsplit("/", 1)[1]
    dashboard.api.post(f"/v1/sweeps/{sweep_id}/cancel")  # what it varies is the point here
    sweep = dashboard.api.get(f"/v1/sweeps/{sweep_id}").json()
    assert sweep["grid"] == {"prediction_window": [5, 10], "recipe": ["motionlab", "turicreate"]}
    assert "prediction_window" not in sweep["run"] and "recipe" not in sweep["run"]
    varied = sorted((r["params"]["prediction_window"], r["recipe"]) for r in sweep["runs"])
    assert varied == [(5, "motionlab"), (5, "turicreate"), (10, "motionlab"), (10, "turicreate")]
    assert {r["params"]["random_seed"] for r in sweep["runs"]} == {3}
    developer.page.wait_for_selector("#sweep-runs tbody tr")
    assert developer.page.locator("#sweep-runs tbody tr").count() == 4
    developer.assert_clean()
