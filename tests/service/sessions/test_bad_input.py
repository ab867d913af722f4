"""Each kind of bad upload answers a precise 4xx JSON error and stores nothing."""

from __future__ import annotations

import gzip
import json

import pytest

from core.settings import Settings
from tests.support.problems import problem
from tests.support.servers import LiveServer
from tests.support.storage import store_files

CSV = {"Content-Type": "text/csv"}
JSON = {"Content-Type": "application/json"}
# The first bytes of a PNG file: its signature and the start of its IHDR chunk.
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"


def json_body(samples, columns=("x", "y"), sid="s1"):
    return json.dumps(
        {"sessions": [{"id": sid, "activity": "a", "columns": list(columns), "samples": samples}]}
    )


CASES = [
    # (name, headers, body, status, words the detail must contain)
    ("unsupported type", {"Content-Type": "application/xml"}, "<a/>", 415, ["text/csv"]),
    ("malformed csv", CSV, "sessionId,activity,x\ns1,a,1\ns1,a,1,2,3\n", 400, ["malformed CSV"]),
    ("malformed json", JSON, '{"sessions": [', 400, ["malformed JSON"]),
    (
        "malformed gzip",
        {**CSV, "Content-Encoding": "gzip"},
        b"\x1f\x8b\x08\x00garbage",
        400,
        ["gzip"],
    ),
    ("missing session column", CSV, "activity,x\na,1\n", 422, ["session-id", "sessionId"]),
    ("missing label column", CSV, "sessionId,x\ns1,1\n", 422, ["label", "activity"]),
    (
        "non-numeric feature",
        CSV,
        "sessionId,activity,x\ns1,a,1\ns1,a,abc\n",
        422,
        ["row 2", "line 3", "'x'", "'abc'"],
    ),
    (
        "NaN feature",
        CSV,
        "sessionId,activity,x,y\ns1,a,1,1\ns1,a,NaN,2\n",
        422,
        ["s1", "row 2", "'x'"],
    ),
    ("inf feature", CSV, "sessionId,activity,x\ns1,a,1\ns1,a,inf\n", 422, ["row 2", "finite"]),
    ("nan in json", JSON, json_body([[1, 2], [float("nan"), 1]]), 422, ["sample 2", "'x'"]),
    ("string in json", JSON, json_body([[1, "2"]]), 422, ["sample 1", "'y'", "number"]),
    ("empty session", JSON, json_body([]), 422, ["s1", "empty"]),
    ("header only csv", CSV, "sessionId,activity,x\n", 422, ["no sample rows"]),
    (
        "different feature columns",
        CSV,
        "sessionId,activity,x,y\ns1,a,1,2\ns1,a,3,\n",
        422,
        ["s1", "'y'", "same feature columns"],
    ),
    ("ragged json rows", JSON, json_body([[1, 2], [1]]), 422, ["sample 2", "same columns"]),
    (
        "timestamps backwards",
        CSV,
        "sessionId,activity,timestamp,x\ns1,a,0.0,1\ns1,a,0.2,1\ns1,a,0.1,1\n",
        422,
        ["s1", "sample 3", "backwards"],
    ),
    ("id with bad characters", CSV, "sessionId,activity,x\nmy session!,a,1\n", 422, ["invalid"]),
    ("id too long", CSV, f"sessionId,activity,x\n{'a' * 129},a,1\n", 422, ["1-128"]),
    ("two labels in one session", CSV, "sessionId,activity,x\ns1,a,1\ns1,b,2\n", 422, ["s1"]),
    ("bad split", CSV, "sessionId,activity,split,x\ns1,a,training,1\n", 422, ["train, valid"]),
    ("json not sessions", JSON, '{"id": "x"}', 422, ['"sessions"']),
    # Not a CSV at all, or not separated by commas: said so, not "not UTF-8" or "a control
    # character in a column name".
    ("png as csv", CSV, PNG, 400, ["not a CSV", "PNG image"]),
    ("zip as csv", CSV, b"PK\x03\x04\x14\x00\x00\x00", 400, ["not a CSV", "application/zip"]),
    ("json as csv", CSV, json_body([[1, 2]]), 400, ["not a CSV", "application/json"]),
    ("binary as csv", CSV, b"ab\x00\x01\x02\n", 400, ["not a CSV", "binary"]),
    ("tab-separated", CSV, "sessionId\tactivity\tx\ns1\ta\t1\n", 422, ["2 tabs", "comma"]),
    ("semicolons", CSV, "sessionId;activity;x\ns1;a;1\n", 422, ["2 semicolons", "comma"]),
    ("latin-1 header", CSV, "sessionId,activité,x\n".encode("latin-1"), 400, ["not UTF-8"]),
]


@pytest.mark.parametrize(
    ("headers", "body", "status", "words"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_upload_is_rejected_with_a_precise_error(api, settings, headers, body, status, words):
    response = api.post("/v1/sessions", content=body, headers=headers)
    error = problem(response, status)
    for word in words:
        assert word in error["detail"], error["detail"]
    assert api.get("/v1/sessions").json()["total"] == 0
    assert not store_files(settings)


@pytest.mark.integration
def test_body_over_the_size_limit_is_413(tmp_path):
    from core.migrate import upgrade

    settings = Settings(home=tmp_path, max_upload_bytes=1000)
    upgrade(settings.resolved_database_url)
    big = "sessionId,activity,x\n" + "s1,a,1\n" * 500
    with LiveServer(settings) as live:
        import httpx

        with httpx.Client(base_url=live.url) as client:
            assert client.post("/v1/sessions", content=big, headers=CSV).status_code == 413
            bomb = gzip.compress(big.encode() * 10)
            response = client.post(
                "/v1/sessions", content=bomb, headers={**CSV, "Content-Encoding": "gzip"}
            )
            assert "limit" in problem(response, 413)["detail"]
            assert client.get("/v1/sessions").json()["total"] == 0
