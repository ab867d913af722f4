"""Uploading sessions over a real HTTP server: every format, idempotency, replace, atomicity."""

from __future__ import annotations

import gzip
import io
import json
import threading

import pyarrow.csv as pacsv
import pytest

from tests.support.paths import BASICMOTIONS_CSV
from tests.support.storage import store_files

CSV = "text/csv"


def one_session_csv(rows: int = 5, offset: float = 0.0) -> str:
    lines = ["timestamp,ax,ay"]
    lines += [f"{i * 0.1:.1f},{i + offset},{-i * 0.5}" for i in range(rows)]
    return "\n".join(lines) + "\n"


def stacked_csv(sessions: dict[str, tuple[str, int]]) -> str:
    lines = ["sessionId,activity,ax,ay"]
    for sid, (label, rows) in sessions.items():
        lines += [f"{sid},{label},{i},{i * 2}" for i in range(rows)]
    return "\n".join(lines) + "\n"


def blob_files(settings) -> list:
    return sorted(store_files(settings))


@pytest.mark.both_databases
def test_stacked_csv_of_basicmotions_stores_every_session(api):
    response = api.post(
        "/v1/sessions?sample_rate_hz=10",
        content=BASICMOTIONS_CSV.read_bytes(),
        headers={"Content-Type": CSV},
    )
    assert response.status_code == 201
    entries = response.json()["sessions"]
    assert len(entries) == 80
    assert entries[0]["id"] == "train-000" and entries[0]["rows"] == 100
    assert entries[0]["features"] == ["accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ"]
    assert all(e["created"] and len(e["sha256"]) == 64 for e in entries)
    detail = api.get("/v1/sessions/test-007").json()
    assert detail["split"] == "test" and detail["duration_s"] == 10.0
    assert detail["has_timestamp"] is True
    assert detail["created_at"].endswith(("Z", "+00:00")), detail  # read back from the DB as UTC


def test_one_session_file_takes_id_and_labels_from_query(api):
    response = api.post(
        "/v1/sessions",
        params={
            "session_id": "rec-1",
            "activity": "wave",
            "subject": "ana",
            "split": "train",
            "sample_rate_hz": 50,
        },
        content=one_session_csv(),
        headers={"Content-Type": CSV},
    )
    assert response.status_code == 201, response.text
    detail = api.get("/v1/sessions/rec-1").json()
    assert (detail["activity"], detail["subject"], detail["split"]) == ("wave", "ana", "train")
    assert detail["features"] == ["ax", "ay"] and detail["duration_s"] == pytest.approx(0.1)


def test_column_names_can_be_overridden(api):
    body = "rec,label,who,x\nA,jump,bo,1\nA,jump,bo,2\n"
    response = api.post(
        "/v1/sessions?session_column=rec&label_column=label&subject_column=who",
        content=body,
        headers={"Content-Type": CSV},
    )
    assert response.status_code == 201, response.text
    assert api.get("/v1/sessions/A").json()["subject"] == "bo"


def test_json_upload_round_trips_through_samples_download(api):
    session = {
        "id": "j1",
        "activity": "shake",
        "subject": "kim",
        "split": "valid",
        "sample_rate_hz": 25.0,
        "columns": ["timestamp", "x", "y"],
        "samples": [[0.0, 0.1, 1e-17], [0.04, 1 / 3, -2.5e300], [0.08, 7.0, 123456.789]],
    }
    response = api.post("/v1/sessions", json={"sessions": [session]})
    assert response.status_code == 201, response.text
    assert response.json()["sessions"][0]["features"] == ["x", "y"]
    back = api.get("/v1/sessions/j1/samples", headers={"Accept": "application/json"}).json()
    # With what each column holds (neither name says a sensor); sent back, it is the same upload.
    assert back == {**session, "channels": {"x": "other", "y": "other"}}
    again = api.post("/v1/sessions", json={"sessions": [back]})
    assert again.status_code == 200 and again.json()["sessions"][0]["created"] is False
    csv_table = pacsv.read_csv(io.BytesIO(api.get("/v1/sessions/j1/samples").content))
    assert csv_table.column("y").to_pylist() == [1e-17, -2.5e300, 123456.789]
    assert csv_table.column("x").to_pylist()[1] == 1 / 3


def test_multipart_with_several_files_and_gzip(api):
    files = [
        ("files", ("walk-01.csv", one_session_csv(4), CSV)),
        (
            "files",
            ("walk-02.csv.gz", gzip.compress(one_session_csv(6).encode()), "application/gzip"),
        ),
        (
            "files",
            (
                "more.json",
                json.dumps(
                    {
                        "sessions": [
                            {
                                "id": "j",
                                "activity": "run",
                                "columns": ["ax", "ay"],
                                "samples": [[1, 2]],
                            }
                        ]
                    }
                ),
                "application/json",
            ),
        ),
    ]
    response = api.post("/v1/sessions?activity=walk", files=files)
    assert response.status_code == 201, response.text
    ids = [e["id"] for e in response.json()["sessions"]]
    assert ids == ["walk-01", "walk-02", "j"]
    assert api.get("/v1/sessions/walk-02").json()["row_count"] == 6


def test_content_encoding_gzip_body(api):
    body = gzip.compress(stacked_csv({"g1": ("a", 3), "g2": ("b", 2)}).encode())
    response = api.post(
        "/v1/sessions", content=body, headers={"Content-Type": CSV, "Content-Encoding": "gzip"}
    )
    assert response.status_code == 201, response.text
    assert [e["rows"] for e in response.json()["sessions"]] == [3, 2]


def concatenated_gzip(text: str, members: int) -> bytes:
    """`cat a.gz b.gz …`: the text cut at line ends into `members` pieces, each gzipped."""
    lines = text.splitlines(keepends=True)
    step = -(-len(lines) // members)
    return b"".join(
        gzip.compress("".join(lines[i : i + step]).encode()) for i in range(0, len(lines), step)
    )


def test_concatenated_gzip_members_store_every_session(api):
    sessions = {f"m{i}": ("a" if i % 2 else "b", 5 + i) for i in range(6)}
    body = concatenated_gzip(stacked_csv(sessions), members=3)
    response = api.post(
        "/v1/sessions", content=body, headers={"Content-Type": CSV, "Content-Encoding": "gzip"}
    )
    assert response.status_code == 201, response.text
    assert {e["id"]: e["rows"] for e in response.json()["sessions"]} == {
        sid: rows for sid, (_, rows) in sessions.items()
    }


def test_concatenated_gzip_file_in_multipart_stores_all_its_rows(api):
    body = concatenated_gzip(one_session_csv(12), members=2)
    files = [("files", ("walk.csv.gz", body, "application/gzip"))]
    response = api.post("/v1/sessions?activity=walk&session_id=walk", files=files)
    assert response.status_code == 201, response.text
    assert api.get("/v1/sessions/walk").json()["row_count"] == 12


def test_uploads_share_the_long_lived_pack_writers(api):
    """Each new upload's pack is written by the process's pack writers, not by a thread started
    for it: twenty phone uploads leave the same few writer threads alive (issue #31)."""

    def writers() -> set[int]:
        return {
            t.ident or 0
            for t in threading.enumerate()
            if t.name.startswith("motionlab-pack-writer")
        }

    def upload(number: int) -> None:
        response = api.post(
            f"/v1/sessions?session_id=phone-{number}&activity=walk",
            content=one_session_csv(offset=number),
            headers={"Content-Type": CSV},
        )
        assert response.status_code == 201, response.text

    for number in range(10):
        upload(number)
    first = writers()
    for number in range(10, 20):
        upload(number)
    assert first and writers() == first


@pytest.mark.both_databases
def test_reupload_same_content_is_noop(api, settings):
    body = stacked_csv({"s1": ("a", 3), "s2": ("b", 4)})
    assert api.post("/v1/sessions", content=body, headers={"Content-Type": CSV}).status_code == 201
    again = api.post("/v1/sessions", content=body, headers={"Content-Type": CSV})
    assert again.status_code == 200
    assert [e["created"] for e in again.json()["sessions"]] == [False, False]
    assert api.get("/v1/sessions").json()["total"] == 2
    assert len(blob_files(settings)) == 1  # one pack per upload; the no-op wrote none


@pytest.mark.both_databases
def test_different_content_under_existing_id_conflicts_unless_replace(api, settings):
    api.post("/v1/sessions", content=stacked_csv({"s1": ("a", 3)}), headers={"Content-Type": CSV})
    old_blob = blob_files(settings)
    changed = stacked_csv({"s1": ("a", 4)})
    conflict = api.post("/v1/sessions", content=changed, headers={"Content-Type": CSV})
    assert conflict.status_code == 409
    assert "replace=true" in conflict.json()["detail"]
    assert api.get("/v1/sessions/s1").json()["row_count"] == 3
    relabeled = api.post(
        "/v1/sessions", content=stacked_csv({"s1": ("b", 3)}), headers={"Content-Type": CSV}
    )
    assert relabeled.status_code == 409
    replaced = api.post("/v1/sessions?replace=true", content=changed, headers={"Content-Type": CSV})
    assert replaced.status_code == 201
    assert replaced.json()["sessions"][0]["replaced"] is True
    assert api.get("/v1/sessions/s1").json()["row_count"] == 4
    assert blob_files(settings) != old_blob and len(blob_files(settings)) == 1


@pytest.mark.both_databases
def test_request_whose_third_session_is_bad_stores_nothing(api, settings):
    body = "sessionId,activity,x\nok1,a,1\nok2,a,2\nbad,a,oops\n"
    response = api.post("/v1/sessions", content=body, headers={"Content-Type": CSV})
    assert response.status_code == 422
    sessions = [
        {"id": "ok1", "activity": "a", "columns": ["x"], "samples": [[1]]},
        {"id": "ok2", "activity": "a", "columns": ["x"], "samples": [[2]]},
        {"id": "bad", "activity": "a", "columns": ["x"], "samples": []},
    ]
    assert api.post("/v1/sessions", json={"sessions": sessions}).status_code == 422
    assert api.get("/v1/sessions").json()["total"] == 0
    assert blob_files(settings) == []


@pytest.mark.both_databases
def test_conflict_in_one_session_stores_none_of_the_request(api, settings):
    api.post("/v1/sessions", content=stacked_csv({"s1": ("a", 3)}), headers={"Content-Type": CSV})
    body = stacked_csv({"new1": ("a", 2), "s1": ("a", 5)})
    assert api.post("/v1/sessions", content=body, headers={"Content-Type": CSV}).status_code == 409
    assert api.get("/v1/sessions/new1").status_code == 404
    assert len(blob_files(settings)) == 1
