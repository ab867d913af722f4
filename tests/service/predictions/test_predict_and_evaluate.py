"""POST /v1/runs/{id}/predict and /evaluate answer what the library itself computes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from service.predictions.loading import MODELS
from service.predictions.service import INLINE_MAX_BYTES
from tests.support.basicmotions import FEATURES, basicmotions_rows, csv_bytes, library_columns

CSV = {"Content-Type": "text/csv"}
TEST_SESSIONS = [f"test-{i:03d}" for i in range(40)]


def predict(api, run_id, body, headers=CSV, **params):
    response = api.post(f"/v1/runs/{run_id}/predict", content=body, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_per_row_classes_of_a_session_without_id_column_match_the_library(served, served_api):
    table = basicmotions_rows(["test-003"]).drop_columns(["sessionId", "activity", "split"])
    answer = predict(served_api, served.run_id, csv_bytes(table))

    expected = served.library_model().predict(library_columns(table, None))
    assert answer["run_id"] == served.run_id
    assert answer["output_frequency"] == "per_row" and answer["output_type"] == "class"
    assert answer["classes"] == ["Badminton", "Running", "Standing", "Walking"]
    assert answer["num_rows"] == answer["num_predictions"] == table.num_rows
    assert answer["predictions"] == {"class": expected.tolist()}


def test_per_window_probabilities_carry_session_window_and_rows_like_the_library(
    served, served_api
):
    # Two sessions, the second one cut short so its last window is partial.
    table = basicmotions_rows(["test-012", "test-025"]).slice(0, 195)
    answer = predict(
        served_api,
        served.run_id,
        csv_bytes(table),
        output_frequency="per_window",
        output_type="probability_vector",
    )

    expected = served.library_model().predict(
        library_columns(table), output_type="probability_vector", output_frequency="per_window"
    )
    columns = answer["predictions"]
    assert set(columns) == {
        "session_id",
        "window",
        "prediction_id",
        "first_row",
        "num_rows",
        "probability_vector",
    }
    assert columns["session_id"] == expected["session_id"].tolist()
    assert columns["session_id"][0] == "test-012" and columns["session_id"][-1] == "test-025"
    for name in ("window", "prediction_id", "first_row", "num_rows"):
        assert columns[name] == expected[name].tolist(), name
    assert columns["num_rows"][-1] == 5  # 95 rows of test-025: the last window holds 5
    np.testing.assert_allclose(columns["probability_vector"], expected["probability_vector"])
    assert answer["num_predictions"] == 10 + 10


def test_topk_per_window_and_per_row_from_json_rows_match_the_library(served, served_api):
    table = basicmotions_rows(["test-031"])
    body = {
        "id": "watch-7",
        "columns": FEATURES,
        "samples": np.column_stack([table.column(f).to_numpy() for f in FEATURES]).tolist(),
    }
    model = served.library_model()
    data = library_columns(table)

    per_window = predict(
        served_api,
        served.run_id,
        json.dumps(body),
        {"Content-Type": "application/json"},
        output_type="topk",
        k=2,
        output_frequency="per_window",
    )["predictions"]
    expected = model.predict_topk(data, k=2, output_frequency="per_window")
    assert per_window["class"] == expected["class"].tolist()
    np.testing.assert_allclose(per_window["probability"], expected["probability"])
    assert per_window["rank"] == [0, 1] * (len(expected["class"]) // 2)
    assert per_window["window"] == expected["window"].tolist()
    assert set(per_window["session_id"]) == {"watch-7"}

    per_row = predict(
        served_api, served.run_id, json.dumps(body), {"Content-Type": "application/json"},
        output_type="topk", k=10,
    )["predictions"]  # fmt: skip
    expected = model.predict_topk(data, k=4)  # k is capped at the number of classes
    assert per_row["row_id"] == expected["row_id"].tolist()
    assert per_row["class"] == expected["class"].tolist()
    np.testing.assert_allclose(per_row["probability"], expected["probability"])


def test_json_sessions_and_stacked_csv_give_the_same_predictions(served, served_api):
    table = basicmotions_rows(["test-001", "test-036"])
    csv_answer = predict(served_api, served.run_id, csv_bytes(table), output_frequency="per_window")
    sessions = []
    for sid in ("test-001", "test-036"):
        part = basicmotions_rows([sid])
        samples = np.column_stack([part.column(f).to_numpy() for f in reversed(FEATURES)])
        sessions.append({"id": sid, "columns": FEATURES[::-1], "samples": samples.tolist()})
    json_answer = predict(
        served_api,
        served.run_id,
        json.dumps({"sessions": sessions}),
        {"Content-Type": "application/json"},
        output_frequency="per_window",
    )
    assert json_answer["predictions"] == csv_answer["predictions"]


def test_repeated_predictions_reuse_the_cached_model(served, served_api):
    body = csv_bytes(basicmotions_rows(["test-002"]).drop_columns(["sessionId"]))
    predict(served_api, served.run_id, body)
    loads = MODELS.loads
    for _ in range(5):
        predict(served_api, served.run_id, body)
    assert MODELS.loads == loads
    assert (str(served.settings.runs_dir), served.run_id) in MODELS


def test_small_and_large_bodies_answer_alike(served, served_api):
    # Small bodies for a loaded model are answered on the event loop, large ones in a worker
    # thread (INLINE_MAX_BYTES); the same rows padded with JSON whitespace take the other path.
    table = basicmotions_rows(["test-009"])
    samples = np.column_stack([table.column(f).to_numpy() for f in FEATURES]).tolist()
    small = json.dumps({"columns": FEATURES, "samples": samples}).encode()
    large = small + b" " * INLINE_MAX_BYTES
    assert len(small) < INLINE_MAX_BYTES < len(large)
    answers = [
        predict(
            served_api,
            served.run_id,
            body,
            {"Content-Type": "application/json"},
            output_frequency="per_window",
            output_type="topk",
        )
        for body in (small, large)
    ]
    assert answers[0] == answers[1]


def run_test_metrics(api, run_id) -> dict:
    return api.get(f"/v1/runs/{run_id}/metrics").json()["test"]


def assert_same_metrics(actual: dict, expected: dict) -> None:
    assert actual.keys() == expected.keys()
    for name, value in expected.items():
        if isinstance(value, float):
            assert actual[name] == pytest.approx(value, rel=1e-6, abs=1e-9), name
        else:
            assert actual[name] == value, name


@pytest.mark.parametrize("selection", [{"splits": ["test"]}, {"part": "test"}])
def test_evaluate_on_stored_test_sessions_equals_the_run_test_metrics(
    served, served_api, selection
):
    response = served_api.post(f"/v1/runs/{served.run_id}/evaluate", json=selection)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["num_sessions"] == 40
    assert_same_metrics(answer["metrics"], run_test_metrics(served_api, served.run_id))


def test_evaluate_on_posted_labelled_rows_equals_the_run_test_metrics(served, served_api):
    body = csv_bytes(basicmotions_rows(TEST_SESSIONS))
    response = served_api.post(f"/v1/runs/{served.run_id}/evaluate", content=body, headers=CSV)
    assert response.status_code == 200, response.text
    assert response.json()["num_sessions"] == 40
    assert_same_metrics(response.json()["metrics"], run_test_metrics(served_api, served.run_id))


@pytest.mark.both_databases
def test_evaluate_on_a_few_named_sessions_matches_the_library(served, served_api):
    chosen = ["test-004", "test-017", "test-033"]
    response = served_api.post(f"/v1/runs/{served.run_id}/evaluate", json={"sessions": chosen})
    assert response.status_code == 200, response.text
    table = basicmotions_rows(chosen)
    expected = served.library_model().evaluate(
        {**library_columns(table), "activity": table.column("activity").to_numpy()}
    )
    assert_same_metrics(response.json()["metrics"], expected)
