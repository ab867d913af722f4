"""The run pages in Chromium against real runs: live progress, curves, the confusion matrix,
predictions on a dropped recording, the runs table and compare."""

from __future__ import annotations

from tests.support.browser import LIVE_ITERATIONS, QUICK_ITERATIONS, chart
from tests.support.runs import wait_for

ITERATION = "Number(document.getElementById('iteration').dataset.iteration)"


def shown_confusion(page) -> dict[tuple[str, str], int]:
    cells = page.locator("table.confusion td.cell")
    return {
        (cell.get_attribute("data-actual"), cell.get_attribute("data-predicted")): int(
            cell.text_content()
        )
        for cell in cells.all()
    }


def expected_confusion(part: dict) -> dict[tuple[str, str], int]:
    classes = [row["class"] for row in part["report_by_class"]]
    counts = {(a, p): 0 for a in classes for p in classes}
    counts.update(
        {(c["class"], c["predicted_class"]): c["count"] for c in part["confusion_matrix"]}
    )
    return counts


def test_a_running_runs_progress_updates_live_until_its_metrics_show(reader, dashboard, live_run):
    api = dashboard.api
    reader.open(f"/runs/{live_run}", "#iteration[data-iteration]")  # opened as it starts
    first = reader.page.evaluate(ITERATION)
    assert first < LIVE_ITERATIONS, "the run should still be training"
    reader.page.evaluate(
        """() => {
            window.sameDocument = true;  // gone if the page reloaded
            window.seenIterations = [];
            const iteration = document.getElementById("iteration");
            new MutationObserver(() => window.seenIterations.push(iteration.dataset.iteration))
                .observe(iteration, { attributes: true });
        }"""
    )
    reader.page.wait_for_function(f"{ITERATION} > {first}", timeout=120_000)
    reader.screenshot("run-live")
    reader.page.wait_for_selector("table.confusion", timeout=300_000)
    assert reader.page.evaluate("window.sameDocument") is True
    assert len(set(reader.page.evaluate("window.seenIterations"))) >= 2  # step by step
    assert reader.page.text_content("#status") == "succeeded"
    assert reader.page.evaluate(ITERATION) == LIVE_ITERATIONS
    reader.screenshot("run-live-finished")
    accuracy = chart(reader.page, "curve-accuracy")["datasets"][0]
    assert len(accuracy["data"]) == LIVE_ITERATIONS  # every iteration arrived
    assert shown_confusion(reader.page) == expected_confusion(
        api.get(f"/v1/runs/{live_run}/metrics").json()["test"]
    )
    reader.assert_clean()


def test_a_finished_run_shows_curves_and_the_confusion_matrix_of_its_metrics(
    reader, dashboard, quick_run
):
    run_id = quick_run
    metrics = dashboard.api.get(f"/v1/runs/{run_id}/metrics").json()
    progress = dashboard.api.get(f"/v1/runs/{run_id}/progress").json()
    reader.open(f"/runs/{run_id}", "table.confusion")
    assert reader.page.get_attribute("#metrics-part", "data-part") == "test"
    assert shown_confusion(reader.page) == expected_confusion(metrics["test"])
    loss = chart(reader.page, "curve-loss")["datasets"]
    assert loss[0]["label"] == "train loss"
    assert loss[0]["data"] == [{"x": r["iteration"], "y": r["train_loss"]} for r in progress]
    per_class = reader.page.locator("table.per-class tbody tr").all_inner_texts()
    assert [row.split("\t")[0] for row in per_class] == [
        "Badminton",
        "Running",
        "Standing",
        "Walking",
    ]
    run = dashboard.api.get(f"/v1/runs/{run_id}").json()
    assert reader.page.text_content("#fingerprint") == run["data_fingerprint"]
    reader.screenshot("run")
    reader.page.click(".tabs button[data-part='train']")
    assert shown_confusion(reader.page) == expected_confusion(metrics["train"])
    with reader.page.expect_download() as downloading:
        reader.page.click("#download-mlmodel")
    expected = dashboard.api.get(f"/v1/runs/{run_id}/model.mlmodel")
    assert downloading.value.path().read_bytes() == expected.content
    assert downloading.value.suggested_filename == "GestureClassifier.mlmodel"  # the server's
    for button, path in (
        ("#download-onnx", "model.onnx"),
        ("#download-mlpackage", "model.mlpackage.zip"),
    ):
        with reader.page.expect_download() as downloading:
            reader.page.click(button)
        expected = dashboard.api.get(f"/v1/runs/{run_id}/{path}")
        assert downloading.value.path().read_bytes() == expected.content
        assert (
            downloading.value.suggested_filename
            == f"GestureClassifier.{path.removeprefix('model.')}"
        )
    with reader.page.expect_download() as downloading:
        reader.page.click("#download-native")
    assert downloading.value.suggested_filename == f"GestureClassifier-{run_id}.pt"
    reader.assert_clean()


def test_a_dropped_recording_shows_the_predicted_class_of_each_window(
    developer, dashboard, quick_run
):
    run_id = quick_run
    recording = dashboard.api.get("/v1/sessions/test-035/samples").text  # Badminton, 100 rows
    expected = dashboard.api.post(
        f"/v1/runs/{run_id}/predict?output_frequency=per_window",
        content=recording,
        headers={"Content-Type": "text/csv"},
    ).json()["predictions"]
    developer.open(f"/runs/{run_id}", "#drop-zone")
    developer.page.evaluate(
        """text => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([text], "test-035.csv", { type: "text/csv" }));
            const zone = document.getElementById("drop-zone");
            zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true }));
        }""",
        recording,
    )
    developer.page.wait_for_selector("#window-predictions tbody tr")
    rows = developer.page.locator("#window-predictions tbody tr").all_inner_texts()
    assert [row.split("\t")[-1] for row in rows] == expected["class"]
    assert len(rows) == 10  # 100 rows, windows of 10
    signals = chart(developer.page, "prediction-signals")
    assert [d["label"] for d in signals["datasets"]] == [
        "accelX",
        "accelY",
        "accelZ",
        "rotX",
        "rotY",
        "rotZ",
    ]
    developer.page.locator("#prediction").scroll_into_view_if_needed()
    developer.screenshot("predict")
    developer.assert_clean()


def test_runs_are_sorted_by_a_column_and_two_of_them_compared(
    reader, dashboard, quick_run, live_run
):
    api = dashboard.api
    wait_for(api, live_run, {"succeeded"}, timeout_s=300)
    reader.open("/runs?experiment=dashboard", "#runs tbody tr")
    reader.page.click("th[data-column='iterations']")
    assert reader.page.get_attribute("th[data-column='iterations']", "data-sorted") == "ascending"
    order = reader.page.locator("#runs tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.runId)"
    )
    assert order == [quick_run, live_run]
    reader.page.click("th[data-column='iterations']")
    order = reader.page.locator("#runs tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.runId)"
    )
    assert order == [live_run, quick_run]
    reader.screenshot("runs")
    reader.page.check(f"#runs input[value='{live_run}']")
    assert reader.page.is_disabled("#compare")  # one run: nothing to compare
    reader.page.check(f"#runs input[value='{quick_run}']")
    reader.page.click("#compare")
    reader.page.wait_for_selector("#diff tbody tr")
    reader.page.wait_for_function("Chart.getChart(document.getElementById('compare-accuracy'))")
    assert reader.page.locator("#compared li").count() == 2
    curves = chart(reader.page, "compare-accuracy")["datasets"]
    assert [d["label"] for d in curves] == ["longer train accuracy", "quick train accuracy"]
    assert [len(d["data"]) for d in curves] == [LIVE_ITERATIONS, QUICK_ITERATIONS]
    differing = dict(
        zip(
            reader.page.locator("#diff tbody th").all_inner_texts(),
            reader.page.locator("#diff tbody tr").all_inner_texts(),
            strict=True,
        )
    )
    assert differing["params.max_iterations"].split("\t")[1:] == [
        str(LIVE_ITERATIONS),
        str(QUICK_ITERATIONS),
    ]
    assert "params.random_seed" in differing and "params.prediction_window" not in differing
    reader.screenshot("compare")
    reader.assert_clean()
