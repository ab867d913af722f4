"""Each bad predict / evaluate request answers a precise 4xx JSON error."""

from __future__ import annotations

import gzip
import json

import pytest

from core.db import make_engine, make_session_factory, unit_of_work
from core.models import Run
from tests.support.problems import problem

CSV = {"Content-Type": "text/csv"}
JSON = {"Content-Type": "application/json"}
HEADER = "accelX,accelY,accelZ,rotX,rotY,rotZ\n"
ROW = "0.1,0.2,0.3,0.4,0.5,0.6\n"
FEATURES = HEADER.strip().split(",")

CASES = [
    # (name, headers, body, query, status, words the detail must contain)
    ("empty body", CSV, b"", {}, 400, ["empty"]),
    ("blank body", JSON, b" \n", {}, 400, ["empty"]),
    ("unsupported type", {"Content-Type": "application/xml"}, b"<a/>", {}, 415, ["text/csv"]),
    ("no content type", {}, HEADER + ROW, {}, 415, ["application/json"]),
    (
        "missing features in csv",
        CSV,
        "accelX,accelY,accelZ,rotX\n1,2,3,4\n",
        {},
        422,
        ["missing feature column(s) ['rotY', 'rotZ']"],
    ),
    (
        "missing features in json",
        JSON,
        json.dumps({"columns": ["accelX"], "samples": [[1]]}),
        {},
        422,
        ["'accelY'", "'rotZ'"],
    ),
    (
        "non-numeric csv value",
        CSV,
        HEADER + ROW + "0.1,0.2,abc,0.4,0.5,0.6\n",
        {},
        422,
        ["row 2", "line 3", "'accelZ'", "'abc'"],
    ),
    (
        "empty csv cell",
        CSV,
        HEADER + ROW + "0.1,0.2,0.3,,0.5,0.6\n",
        {},
        422,
        ["row 2", "'rotX'", "empty"],
    ),
    ("inf in csv", CSV, HEADER + "inf,0.2,0.3,0.4,0.5,0.6\n", {}, 422, ["row 1", "finite"]),
    (
        "string in json",
        JSON,
        json.dumps(
            {
                "columns": ["accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ"],
                "samples": [[1, 2, 3, 4, 5, 6], [1, 2, 3, "x", 5, 6]],
            }
        ),
        {},
        422,
        ["sample 2", "'rotX'", "not a number"],
    ),
    ("header only", CSV, HEADER, {}, 422, ["no rows"]),
    ("malformed json", JSON, b'{"columns": [', {}, 400, ["malformed JSON"]),
    ("json of the wrong shape", JSON, b"[1, 2]", {}, 422, ["samples"]),
    ("malformed gzip", {**CSV, "Content-Encoding": "gzip"}, b"\x1f\x8bxx", {}, 400, ["gzip"]),
    ("non-UTF-8 header", CSV, b"accelX,\xff\n1\n", {}, 400, ["UTF-8"]),
    ("column twice", CSV, "accelX,accelX," + HEADER + "1,2," + ROW, {}, 422, ["'accelX' twice"]),
    ("100,000 nested [", JSON, b"[" * 100_000, {}, 400, ["nested too deeply"]),
    (
        "400-digit value",
        JSON,
        json.dumps({"columns": FEATURES, "samples": [[1] * 6]}).replace("1", "1" + "0" * 400, 1),
        {},
        422,
        ["too large"],
    ),
    (
        "3-D samples",
        JSON,
        json.dumps({"columns": FEATURES, "samples": [[[1]] * 6]}),
        {},
        422,
        ["nested"],
    ),
    ("10 MB header", CSV, "x" * 10_000_000 + "\n" + ROW, {}, 422, ["header line is longer"]),
    (
        "too many columns",
        CSV,
        ",".join(f"c{i}" for i in range(2000)) + "," + HEADER + "0," * 2000 + ROW,
        {},
        422,
        ["MOTIONLAB_MAX_FEATURES"],
    ),
    ("unknown output_type", CSV, HEADER + ROW, {"output_type": "odds"}, 422, ["output_type"]),
    ("k below 1", CSV, HEADER + ROW, {"output_type": "topk", "k": 0}, 422, ["k"]),
]


@pytest.mark.parametrize(
    ("headers", "body", "query", "status", "words"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_predict_request_is_a_precise_error(
    served, served_api, headers, body, query, status, words
):
    response = served_api.post(
        f"/v1/runs/{served.run_id}/predict", content=body, headers=headers, params=query
    )
    detail = problem(response, status)["detail"]
    for word in words:
        assert word in detail, (word, detail)


def test_gzipped_rows_are_accepted(served, served_api):
    response = served_api.post(
        f"/v1/runs/{served.run_id}/predict",
        content=gzip.compress((HEADER + ROW * 30).encode()),
        headers={**CSV, "Content-Encoding": "gzip"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["num_rows"] == 30


def test_predict_with_an_unknown_run_is_404(served_api):
    response = served_api.post("/v1/runs/nope/predict", content=HEADER + ROW, headers=CSV)
    assert "'nope'" in problem(response, 404)["detail"]


def test_predict_and_evaluate_with_a_queued_run_are_409(served, served_api):
    for action in ("predict", "evaluate"):
        response = served_api.post(
            f"/v1/runs/{served.queued_run_id}/{action}", content=HEADER + ROW, headers=CSV
        )
        assert response.status_code == 409, response.text
        assert "queued" in response.json()["detail"]


def test_predict_with_a_run_of_an_engine_without_a_model_loader_is_409(served, served_api):
    # Runs of an engine this server cannot load models of (e.g. one added by a newer worker).
    source = served_api.get(f"/v1/runs/{served.run_id}").json()
    factory = make_session_factory(make_engine(served.settings.resolved_database_url))
    with unit_of_work(factory) as db:
        db.add(
            Run(
                id="ab0000000000000a",
                engine="abacus",
                status="succeeded",
                params=source["params"],
                data_fingerprint=source["data_fingerprint"],
            )
        )
    response = served_api.post(
        "/v1/runs/ab0000000000000a/predict", content=HEADER + ROW, headers=CSV
    )
    assert response.status_code == 409, response.text
    assert "'abacus' engine" in response.json()["detail"]


EVALUATE_CASES = [
    ("rows without labels", CSV, HEADER + ROW, 422, ["missing label column 'activity'"]),
    ("label column twice", CSV, "activity,activity," + HEADER, 422, ["'activity' twice"]),
    ("100,000 nested [", JSON, "[" * 100_000, 400, ["nested too deeply"]),
    ("selection of a bad type", JSON, json.dumps({"sessions": "all"}), 422, ["sessions"]),
    (
        "json session without label",
        JSON,
        json.dumps({"columns": HEADER.strip().split(","), "samples": [[1] * 6]}),
        422,
        ['"activity" label'],
    ),
    ("unknown session", JSON, json.dumps({"sessions": ["nope"]}), 422, ["unknown session", "nope"]),
    ("unknown filter", JSON, json.dumps({"colors": ["red"]}), 422, ["colors", "selection"]),
    ("part with filters", JSON, json.dumps({"part": "test", "splits": ["test"]}), 422, ["part"]),
    ("missing part", JSON, json.dumps({"part": "valid"}), 422, ["no 'valid' part"]),
    ("nothing matches", JSON, json.dumps({"activities": ["Swimming"]}), 422, ["no session"]),
]


@pytest.mark.parametrize(
    ("headers", "body", "status", "words"),
    [case[1:] for case in EVALUATE_CASES],
    ids=[case[0] for case in EVALUATE_CASES],
)
def test_bad_evaluate_request_is_a_precise_error(served, served_api, headers, body, status, words):
    response = served_api.post(f"/v1/runs/{served.run_id}/evaluate", content=body, headers=headers)
    assert response.status_code == status, response.text
    for word in words:
        assert word in response.json()["detail"], (word, response.json()["detail"])
