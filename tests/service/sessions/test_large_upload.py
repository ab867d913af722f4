"""Uploads big enough that Arrow parses them in several blocks: sessions that cross block
boundaries, rows of sessions interleaved, a feature left empty in one session. What is stored
must be exactly what was sent, under a content address that does not depend on the format."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

ROWS = 40_000  # per session; ~4 MB of CSV, several of Arrow's 1 MB blocks


def content_address(features: list[str], columns: list[np.ndarray], timestamps) -> str:
    """The documented definition: names, then each feature's float64 bytes, then timestamps."""
    digest = hashlib.sha256(json.dumps([features, timestamps is not None]).encode())
    for column in (*columns, *(() if timestamps is None else (timestamps,))):
        digest.update(np.ascontiguousarray(column, dtype=np.float64).tobytes())
    return digest.hexdigest()


def sessions_data() -> dict[str, dict]:
    rng = np.random.default_rng(7)
    data = {}
    for name, label in (("a", "walk"), ("b", "run"), ("c", "sit")):
        data[name] = {
            "label": label,
            "timestamp": np.arange(ROWS) * 0.01,
            "values": rng.normal(size=(ROWS, 3)).round(7),
        }
    return data


def csv_body(data: dict[str, dict], interleaved: bool) -> str:
    lines = []
    for name, session in data.items():
        for i in range(ROWS):
            x, y, z = map(float, session["values"][i])
            t = float(session["timestamp"][i])
            z_cell = "" if name == "c" else repr(z)  # session c never has az
            lines.append((i, f"{name},{session['label']},{t!r},{x!r},{y!r},{z_cell}"))
    if interleaved:
        lines.sort(key=lambda pair: pair[0])  # a1, b1, c1, a2, b2, ...
    return "sessionId,activity,timestamp,ax,ay,az\n" + "\n".join(line for _, line in lines) + "\n"


@pytest.mark.parametrize("interleaved", [False, True], ids=["contiguous", "interleaved"])
def test_multi_block_csv_stores_exact_samples_under_their_content_address(api, interleaved):
    data = sessions_data()
    response = api.post(
        "/v1/sessions", content=csv_body(data, interleaved), headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 201, response.text
    entries = {entry["id"]: entry for entry in response.json()["sessions"]}
    assert list(entries) == ["a", "b", "c"]
    for name, session in data.items():
        features = ["ax", "ay"] if name == "c" else ["ax", "ay", "az"]
        values = session["values"][:, : len(features)]
        entry = entries[name]
        assert entry["rows"] == ROWS and entry["features"] == features
        columns = [values[:, j] for j in range(len(features))]
        assert entry["sha256"] == content_address(features, columns, session["timestamp"])
        back = api.get(f"/v1/sessions/{name}/samples", headers={"Accept": "application/json"})
        samples = np.array(back.json()["samples"])
        assert back.json()["columns"] == ["timestamp", *features]
        np.testing.assert_array_equal(samples[:, 0], session["timestamp"])
        np.testing.assert_array_equal(samples[:, 1:], values)


def test_the_same_samples_as_json_have_the_same_content_address(api):
    data = sessions_data()
    session = data["a"]
    csv_sha = api.post(
        "/v1/sessions",
        content=csv_body({"a": session}, False),
        headers={"Content-Type": "text/csv"},
    ).json()["sessions"][0]["sha256"]
    document = {
        "id": "a-json",
        "activity": "walk",
        "columns": ["timestamp", "ax", "ay", "az"],
        "samples": np.column_stack([session["timestamp"], session["values"]]).tolist(),
    }
    response = api.post("/v1/sessions", json={"sessions": [document]})
    assert response.status_code == 201, response.text
    assert response.json()["sessions"][0]["sha256"] == csv_sha


def test_a_feature_named_timestamp_beside_another_timestamp_column_is_422(api):
    body = "sessionId,activity,t,timestamp\ns1,a,0.0,5\ns1,a,0.1,6\n"
    response = api.post(
        "/v1/sessions?timestamp_column=t", content=body, headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 422
    assert "'timestamp'" in response.json()["detail"] and "rename" in response.json()["detail"]
    assert api.get("/v1/sessions").json()["total"] == 0
