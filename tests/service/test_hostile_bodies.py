"""Bodies an adversarial probe sent (issue 26): each is bounded by a documented limit before
memory is spent, refused with the 4xx that names it, and stores nothing.

Defects 2 and 5 (gzip inflated whole, in quadratic time, on the event loop), 3 (Sensor
Logger resampling without a row limit), 7 (looser than documented: JSON `true`, CSV `0x1A`,
`Content-Encoding: br`, look-alike labels) and 8 (a single multipart file's name). That no
request stalls the event loop is checked on a live server: test_hostile_server.py.
"""

from __future__ import annotations

import gzip
import json
import tracemalloc
import unicodedata

import cbor2
import pytest

from service.content_encoding import MAX_GZIP_MEMBERS, gunzip
from service.errors import PayloadTooLarge
from service.http import Limit
from service.offload import OFFLOAD_MIN_BYTES
from tests.support.basicmotions import FEATURES
from tests.support.hostile_bodies import (
    edge_impulse_document,
    gzip_bomb,
    gzip_members,
    multipart,
    sensor_logger_far_apart,
    sensor_rows_csv,
)
from tests.support.problems import problem

CSV = {"Content-Type": "text/csv"}
GZIP_CSV = {**CSV, "Content-Encoding": "gzip"}
JSON = {"Content-Type": "application/json"}
ONE_SESSION = "sessionId,activity,x,y\ns1,walk,1,2\ns1,walk,3,4\n"
LIMIT = Limit(32 << 20, "MOTIONLAB_MAX_UPLOAD_BYTES")


def stored_ids(api) -> list[str]:
    return [item["id"] for item in api.get("/v1/sessions").json()["items"]]


# Gzip: every member, linear time, the limit enforced as bytes come out.


def test_a_gzip_body_of_several_members_and_zero_padding_is_read_whole(api):
    lines = ONE_SESSION.splitlines(keepends=True)
    body = b"".join(gzip.compress(line.encode()) for line in lines) + bytes(512)
    response = api.post("/v1/sessions", content=body, headers=GZIP_CSV)
    assert response.status_code == 201, response.text
    assert response.json()["sessions"][0]["rows"] == 2


def test_the_most_gzip_members_are_read_and_one_more_is_413(api):
    body = gzip.compress(ONE_SESSION.encode()) + gzip_members(MAX_GZIP_MEMBERS - 1)
    assert api.post("/v1/sessions", content=body, headers=GZIP_CSV).status_code == 201
    refused = api.post(
        "/v1/sessions", content=body + gzip_members(1), headers={**GZIP_CSV, "X-Case": "one more"}
    )
    assert problem(refused, 413)["limit"] == MAX_GZIP_MEMBERS


@pytest.mark.parametrize("members", [20_000, 80_000])
def test_80000_empty_gzip_members_are_413_on_every_route_that_reads_gzip(api, members):
    """1.6 MB froze the API for 5.6 s: members were inflated in quadratic time."""
    body = gzip_members(members)
    for path in ("/v1/sessions", "/v1/runs/no-such-run/predict"):
        assert "members" in problem(api.post(path, content=body, headers=GZIP_CSV), 413)["detail"]
    form, content_type = multipart("rec.csv.gz", body)
    answer = api.post("/v1/sessions", content=form, headers={"Content-Type": content_type})
    assert "members" in problem(answer, 413)["detail"]
    assert stored_ids(api) == []


def traced_peak_bytes(function) -> int:
    """The most memory Python held at once while `function` ran (tracemalloc: allocations are
    counted, not timed)."""
    tracemalloc.start()
    try:
        function()
    except PayloadTooLarge:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


@pytest.mark.unit
def test_a_gzip_bomb_costs_the_limit_at_most_before_its_413():
    """An 8 MB bomb cost +1 GB: inflated whole in pieces, then joined (twice the limit)."""
    bomb = gzip_bomb(1 << 20)  # ~1 GiB of zeros, its size field forged
    with pytest.raises(PayloadTooLarge):
        gunzip(bomb, LIMIT)
    peak = traced_peak_bytes(lambda: gunzip(bomb, LIMIT))
    assert peak < 1.25 * LIMIT.bytes, f"{peak / 2**20:.0f} MiB for a {LIMIT.bytes >> 20} MiB limit"


@pytest.mark.unit
def test_a_body_inflated_to_just_under_the_limit_is_never_held_twice():
    data = sensor_rows_csv(seed=1, rows=200_000)
    assert len(data) < LIMIT.bytes
    body = gzip.compress(data, 1)
    assert gunzip(body, LIMIT) == data
    peak = traced_peak_bytes(lambda: gunzip(body, LIMIT))
    assert peak < 1.25 * len(data), f"{peak / 2**20:.0f} MiB for {len(data) >> 20} MiB inflated"


@pytest.mark.unit
def test_a_gzip_file_whose_size_field_passes_the_limit_is_refused_before_inflating():
    honest = gzip.compress(bytes(LIMIT.bytes + 1))
    peak = traced_peak_bytes(lambda: gunzip(honest, LIMIT))
    with pytest.raises(PayloadTooLarge):
        gunzip(honest, LIMIT)
    assert peak < 1 << 20


@pytest.mark.parametrize("coding", ["br", "deflate", "zstd", "gzip, br", "compress"])
def test_a_content_encoding_the_api_cannot_decode_is_415(api, coding):
    headers = {**CSV, "Content-Encoding": coding}
    for path in ("/v1/sessions", "/v1/runs/no-such-run/predict"):
        detail = problem(api.post(path, content=ONE_SESSION, headers=headers), 415)["detail"]
        assert "Content-Encoding" in detail and "gzip" in detail
    assert stored_ids(api) == []


def test_gzip_x_gzip_and_identity_are_read_and_a_compressed_form_is_415(api):
    for index, coding in enumerate(("gzip", "x-gzip", "GZIP")):
        body = gzip.compress(ONE_SESSION.replace("s1", f"coded-{index}").encode())
        headers = {**CSV, "Content-Encoding": coding}
        assert api.post("/v1/sessions", content=body, headers=headers).status_code == 201
    plain = ONE_SESSION.replace("s1", "plain")
    headers = {**CSV, "Content-Encoding": "identity"}
    assert api.post("/v1/sessions", content=plain, headers=headers).status_code == 201
    form, content_type = multipart("rec.csv", ONE_SESSION.encode())
    headers = {"Content-Type": content_type, "Content-Encoding": "gzip"}
    answer = api.post("/v1/sessions", content=gzip.compress(form), headers=headers)
    assert "compress its files" in problem(answer, 415)["detail"]


# Sensor Logger: the grid's rows are checked before the grid exists.


@pytest.mark.parametrize("seconds_apart", [2e7, 3e9])
def test_two_sensor_logger_rows_far_apart_are_413_before_resampling(api, seconds_apart):
    """178 bytes made a 20,000,001-row session (+770 MB); a wider span answered 500."""
    response = api.post(
        "/v1/sessions",
        params={"session_id": "far", "activity": "walk", "sample_rate_hz": 1},
        content=sensor_logger_far_apart(seconds_apart),
        headers={"Content-Type": "application/zip"},
    )
    detail = problem(response, 413)["detail"]
    assert "MOTIONLAB_MAX_UPLOAD_BYTES" in detail and "sample_rate_hz" in detail
    assert stored_ids(api) == []


def test_a_sensor_logger_span_that_fits_the_limit_is_resampled(api):
    response = api.post(
        "/v1/sessions",
        params={"session_id": "hour", "activity": "walk", "sample_rate_hz": 1},
        content=sensor_logger_far_apart(3600),
        headers={"Content-Type": "application/zip"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["sessions"][0]["rows"] == 3601


# Values: numbers only, written as numbers.


@pytest.mark.parametrize("value", ["true", "false", '"1.5"', "null"])
def test_a_json_sample_that_is_not_a_number_is_422(api, value):
    """JSON `true` was stored as 1.0."""
    body = '{"sessions": [{"id": "s1", "activity": "walk", "columns": ["x", "y"], '
    body += f'"samples": [[0.5, 1], [2.5, {value}]]}}]}}'
    detail = problem(api.post("/v1/sessions", content=body, headers=JSON), 422)["detail"]
    assert "sample 2, column 'y'" in detail and "not a number" in detail
    assert stored_ids(api) == []


@pytest.mark.parametrize("encoding", ["json", "cbor"])
def test_an_edge_impulse_value_that_is_not_a_number_is_422(api, encoding):
    """Every format holds numbers only: Edge Impulse's JSON and CBOR share the check."""
    document = edge_impulse_document(2)
    document["payload"]["values"][1][2] = True
    body, kind = (
        (json.dumps(document).encode(), "application/json")
        if encoding == "json"
        else (cbor2.dumps(document), "application/cbor")
    )
    response = api.post(
        "/v1/sessions?session_id=ei&activity=idle", content=body, headers={"Content-Type": kind}
    )
    detail = problem(response, 422)["detail"]
    assert "sample 2, column 'accZ'" in detail and "not a number" in detail
    assert stored_ids(api) == []


@pytest.mark.parametrize("value", [True, False, "1.5", None])
def test_rows_to_predict_that_are_not_numbers_are_422(served, served_api, value):
    samples = [[0.1] * 6 for _ in range(10)]
    samples[4][2] = value
    rows = {"columns": FEATURES, "samples": samples}
    answer = served_api.post(f"/v1/runs/{served.run_id}/predict", json=rows)
    detail = problem(answer, 422)["detail"]
    assert "sample 5, column 'accelZ'" in detail and "not a number" in detail


def test_a_hexadecimal_csv_value_is_422_naming_its_row_and_column(api):
    """pyarrow read `0x1A` as 26."""
    body = "sessionId,activity,x,y\ns1,walk,1,2\ns1,walk,0x1A,3\n"
    detail = problem(api.post("/v1/sessions", content=body, headers=CSV), 422)["detail"]
    assert "row 2 (line 3), column 'x'" in detail and "'0x1A'" in detail
    assert stored_ids(api) == []


def test_hexadecimal_rows_to_predict_are_422(served, served_api):
    rows = ",".join(FEATURES) + "\n" + "1,2,3,4,5,6\n" * 9 + "1,2, 0X1a,4,5,6\n"
    answer = served_api.post(f"/v1/runs/{served.run_id}/predict", content=rows, headers=CSV)
    detail = problem(answer, 422)["detail"]
    assert "row 10 (line 11), column 'accelZ'" in detail and "hexadecimal" in detail


def test_0x_in_a_label_or_a_decimal_value_is_not_mistaken_for_hexadecimal(api):
    body = "sessionId,activity,x,y\nbox0x1,0xcafe,10,2\nbox0x1,0xcafe,0,3\n"
    response = api.post("/v1/sessions", content=body, headers=CSV)
    assert response.status_code == 201, response.text
    assert api.get("/v1/sessions/box0x1").json()["activity"] == "0xcafe"


# Labels: those that look alike are equal.


def test_labels_and_subjects_in_either_normal_form_are_one_class(api):
    nfc, nfd = "caf\u00e9", unicodedata.normalize("NFD", "caf\u00e9")
    assert nfc != nfd
    body = f"sessionId,activity,subject,x\na,{nfc},{nfd}o,1\nb,{nfd},{nfc}o,2\n"
    assert api.post("/v1/sessions", content=body.encode(), headers=CSV).status_code == 201
    stored = {
        s["id"]: (s["activity"], s["subject"]) for s in api.get("/v1/sessions").json()["items"]
    }
    assert stored == {"a": (nfc, nfc + "o"), "b": (nfc, nfc + "o")}
    assert api.get("/v1/sessions", params={"activity": nfc}).json()["total"] == 2


@pytest.mark.parametrize(
    ("character", "name"),
    [
        ("\u200b", "ZERO WIDTH SPACE"),
        ("\u200d", "ZERO WIDTH JOINER"),
        ("\u202e", "RIGHT-TO-LEFT OVERRIDE"),
        ("\u2066", "LEFT-TO-RIGHT ISOLATE"),
        ("\ufeff", "ZERO WIDTH NO-BREAK SPACE"),
        ("\u00ad", "SOFT HYPHEN"),
        ("\u3164", "HANGUL FILLER"),
    ],
)
def test_a_label_with_an_invisible_character_is_422_naming_it(api, character, name):
    label = f"wa{character}lk"
    body = f"sessionId,activity,x\ns1,{label},1\n".encode()
    detail = problem(api.post("/v1/sessions", content=body, headers=CSV), 422)["detail"]
    assert f"U+{ord(character):04X} {name}" in detail and "position 3" in detail
    document = {
        "sessions": [
            {"id": "s2", "activity": "walk", "subject": label, "columns": ["x"], "samples": [[1]]}
        ]
    }
    detail = problem(api.post("/v1/sessions", json=document), 422)["detail"]
    assert "subject" in detail and f"U+{ord(character):04X}" in detail
    assert stored_ids(api) == []


# Multipart: one file is named by its file name, as several are.


def test_a_single_multipart_file_takes_its_file_name_as_the_session_id(api):
    form, content_type = multipart("walk-07.csv.gz", gzip.compress(b"x,y\n1,2\n3,4\n"))
    response = api.post(
        "/v1/sessions",
        params={"activity": "walk"},
        content=form,
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 201, response.text
    assert [s["id"] for s in response.json()["sessions"]] == ["walk-07"]
    form, content_type = multipart("named-in-file.csv", ONE_SESSION.encode())
    response = api.post("/v1/sessions", content=form, headers={"Content-Type": content_type})
    assert [s["id"] for s in response.json()["sessions"]] == ["s1"]  # an id column still wins


# JSON and CBOR: a large body is decoded in another process (json.loads holds the GIL).


def big_document(rows: int, bad_row: int | None = None) -> dict:
    samples = [[i * 0.001, -i * 0.002] for i in range(rows)]
    if bad_row is not None:
        samples[bad_row][1] = True
    return {
        "sessions": [{"id": "big", "activity": "walk", "columns": ["x", "y"], "samples": samples}]
    }


def test_a_large_json_body_decoded_apart_answers_as_a_small_one_does(api):
    small, large = big_document(10, bad_row=4), big_document(40_000, bad_row=4)
    assert len(json.dumps(large)) > OFFLOAD_MIN_BYTES > len(json.dumps(small))
    refusals = [problem(api.post("/v1/sessions", json=body), 422) for body in (small, large)]
    assert refusals[0] == refusals[1]
    assert refusals[1]["column"] == "y" and "sample 5" in refusals[1]["detail"]
    response = api.post("/v1/sessions", json=big_document(40_000))
    assert response.status_code == 201 and response.json()["sessions"][0]["rows"] == 40_000
    samples = api.get("/v1/sessions/big/samples", headers={"Accept": "application/json"}).json()
    assert samples["samples"] == big_document(40_000)["sessions"][0]["samples"]


def test_large_json_rows_to_predict_are_decoded_apart(served, served_api):
    rows = {"columns": FEATURES, "samples": [[0.1 * (i % 7)] * 6 for i in range(20_000)]}
    assert len(json.dumps(rows)) > OFFLOAD_MIN_BYTES
    answer = served_api.post(f"/v1/runs/{served.run_id}/predict", json=rows)
    assert answer.status_code == 200 and len(answer.json()["predictions"]["class"]) == 20_000
    rows["samples"][12_345][3] = "fast"
    detail = problem(served_api.post(f"/v1/runs/{served.run_id}/predict", json=rows), 422)
    assert "sample 12346, column 'rotX'" in detail["detail"]
