"""Listing, filtering, paging, deleting sessions and the stats summary."""

from __future__ import annotations

import pytest

from tests.support.problems import problem
from tests.support.storage import store_files

CSV = {"Content-Type": "text/csv"}


def upload(api, rows: list[tuple[str, str, str, str, int]], rate: float | None = 10):
    lines = ["sessionId,activity,subject,split,x"]
    for sid, label, subject, split, n in rows:
        lines += [f"{sid},{label},{subject},{split},{i + len(sid)}" for i in range(n)]
    params = {"sample_rate_hz": rate} if rate else {}
    response = api.post("/v1/sessions", params=params, content="\n".join(lines), headers=CSV)
    assert response.status_code == 201, response.text


@pytest.mark.both_databases
def test_list_filters_and_pages_with_a_total(api):
    upload(
        api, [(f"s{i:02d}", "walk" if i % 3 else "run", f"p{i % 2}", "train", 3) for i in range(12)]
    )
    page = api.get("/v1/sessions", params={"activity": "walk", "limit": 5}).json()
    assert page["total"] == 8 and len(page["items"]) == 5
    rest = api.get("/v1/sessions", params={"activity": "walk", "limit": 5, "offset": 5}).json()
    assert len(rest["items"]) == 3
    assert {i["id"] for i in page["items"]}.isdisjoint({i["id"] for i in rest["items"]})
    both = api.get("/v1/sessions", params={"activity": "run", "subject": "p0"}).json()
    assert [i["id"] for i in both["items"]] == ["s00", "s06"]
    assert api.get("/v1/sessions", params={"split": "test"}).json()["total"] == 0
    assert api.get("/v1/sessions", params={"limit": 0}).status_code == 422


def test_delete_removes_session_and_its_pack_once_no_session_in_it_is_left(api, settings):
    upload(api, [("a", "walk", "p", "train", 3), ("b", "walk", "p", "train", 4)])
    assert len(store_files(settings)) == 1  # one pack for the upload
    assert api.delete("/v1/sessions/a").status_code == 204
    assert api.get("/v1/sessions/a").status_code == 404
    problem(api.delete("/v1/sessions/a"), 404)
    assert len(store_files(settings)) == 1 and api.get("/v1/sessions").json()["total"] == 1
    assert api.get("/v1/sessions/b/samples").status_code == 200
    assert api.delete("/v1/sessions/b").status_code == 204
    assert not store_files(settings)


def test_blob_shared_by_two_sessions_survives_deleting_one(api, settings):
    lines = "sessionId,activity,x\nc1,walk,1\nc1,walk,2\nc2,run,1\nc2,run,2\n"
    api.post("/v1/sessions", content=lines, headers=CSV)
    assert len(store_files(settings)) == 1
    api.delete("/v1/sessions/c1")
    assert api.get("/v1/sessions/c2/samples").status_code == 200


@pytest.mark.both_databases
def test_stats_per_activity_subject_split_with_imbalance_warning(api):
    upload(
        api,
        [
            ("w1", "walk", "ana", "train", 10),
            ("w2", "walk", "bo", "train", 10),
            ("w3", "walk", "ana", "test", 10),
            ("r1", "run", "bo", "test", 5),
        ],
    )
    stats = api.get("/v1/stats").json()
    assert stats["sessions"] == 4 and stats["rows"] == 35 and stats["seconds"] == 3.5
    assert stats["by_activity"]["walk"] == {"sessions": 3, "rows": 30, "seconds": 3.0}
    assert stats["by_subject"]["bo"]["rows"] == 15
    assert stats["by_split"]["test"]["sessions"] == 2
    assert len(stats["warnings"]) == 1 and "'run'" in stats["warnings"][0]


def test_stats_has_no_seconds_when_the_rate_is_unknown(api):
    upload(api, [("u1", "walk", "ana", "train", 10), ("u2", "run", "ana", "train", 10)], rate=None)
    stats = api.get("/v1/stats").json()
    assert stats["seconds"] is None and stats["warnings"] == []


def test_stats_name_a_few_sessions_of_an_odd_rate_and_count_them_all(api):
    upload(api, [(f"usual{i}", "walk", "p", "train", 3) for i in range(6)], rate=50)
    upload(api, [(f"odd{i}", "run", "p", "train", 3) for i in range(5)], rate=10)
    upload(api, [("unknown", "run", "p", "train", 3)], rate=None)
    stats = api.get("/v1/stats").json()
    (warning,) = [w for w in stats["warnings"] if "different sample rates" in w]
    assert "50 Hz: 6, 10 Hz: 5 sessions" in warning and "… (5 in all)" in warning
    assert warning.count("'odd") == 3 and "differ from 50 Hz" in warning
    assert stats["by_activity"]["run"] == {"sessions": 6, "rows": 18, "seconds": None}
    assert stats["by_activity"]["walk"]["seconds"] == 0.36


def test_stats_count_feature_sets_whatever_the_column_order(api):
    one = {"id": "a", "activity": "walk", "columns": ["x", "y"], "samples": [[1.0, 2.0]] * 3}
    same_set = {**one, "id": "b", "columns": ["y", "x"]}
    assert api.post("/v1/sessions", json={"sessions": [one, same_set]}).status_code == 201
    stats = api.get("/v1/stats").json()
    assert not any("sets of channels" in w for w in stats["warnings"])
    assert stats["by_channels"] == {"x, y": {"sessions": 2, "rows": 6, "seconds": None}}
    other = {**one, "id": "c", "columns": ["x", "z"]}
    assert api.post("/v1/sessions", json={"sessions": [other]}).status_code == 201
    stats = api.get("/v1/stats").json()
    assert any("2 different sets of channels" in w for w in stats["warnings"])
    assert sorted(stats["by_channels"]) == ["x, y", "x, z"]
