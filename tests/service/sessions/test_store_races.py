"""A flaky network's retry storms against a real server: concurrent identical uploads,
delete racing an upload of the same content, concurrent replacements. No answer may be a 500,
every acknowledged session must read back exactly as sent, and no file may be left behind."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

from tests.support.storage import collect_now, referenced_files, unreferenced_files

pytestmark = pytest.mark.both_databases

ROUNDS, IDS, RETRIES = 3, 15, 10
ACKNOWLEDGED = {200, 201}


def session(session_id: str, seed: int, rows: int = 40) -> dict:
    values = np.random.default_rng(seed).normal(size=(rows, 3)).round(6)
    return {
        "id": session_id,
        "activity": "walk",
        "columns": ["x", "y", "z"],
        "samples": values.tolist(),
    }


def session_body(session_id: str, seed: int, rows: int = 40) -> dict:
    return {"sessions": [session(session_id, seed, rows)]}


def post(url: str, body: dict, replace: bool = False) -> int:
    response = httpx.post(f"{url}/v1/sessions", params={"replace": replace}, json=body, timeout=60)
    assert "Traceback" not in response.text
    return response.status_code


def read_back(api: httpx.Client, session_id: str) -> list:
    response = api.get(f"/v1/sessions/{session_id}/samples", headers={"Accept": "application/json"})
    assert response.status_code == 200, response.text
    return response.json()["samples"]


def test_retry_storm_of_identical_uploads_keeps_every_acknowledged_session(server, api, settings):
    with ThreadPoolExecutor(max_workers=RETRIES * 3) as pool:
        for round_ in range(ROUNDS):
            bodies = {
                f"r{round_}-s{i:02d}": session_body(f"r{round_}-s{i:02d}", i) for i in range(IDS)
            }
            jobs = [
                (sid, pool.submit(post, server.url, body))
                for sid, body in bodies.items()
                for _ in range(RETRIES)
            ]
            answers = {sid: [] for sid in bodies}
            for sid, job in jobs:
                answers[sid].append(job.result())
            for sid, statuses in answers.items():
                assert set(statuses) <= ACKNOWLEDGED, (sid, statuses)
                assert statuses.count(201) == 1, (sid, statuses)  # the others: identical, a no-op
                assert read_back(api, sid) == bodies[sid]["sessions"][0]["samples"]
    collect_now(settings)
    assert not unreferenced_files(settings)
    assert len(referenced_files(settings)) >= 1


def test_deleting_a_session_while_its_twin_is_uploaded_keeps_the_twin(server, api, settings):
    upload_s = 0.3
    with ThreadPoolExecutor(max_workers=2) as pool:
        for trial in range(20):
            body = session_body(f"x{trial}", trial)
            assert post(server.url, body) == 201
            # The same samples under another id (the same content address as x's), followed by
            # sessions of its own that keep the upload busy for a while.
            fillers = [session(f"f{trial}-{i}", 1000 * trial + i, rows=400) for i in range(60)]
            twin = {"sessions": [session(f"y{trial}", trial), *fillers]}
            started = time.perf_counter()
            uploaded = pool.submit(lambda b: (post(server.url, b), time.perf_counter()), twin)
            time.sleep(upload_s * (trial % 10) / 10)  # a different moment of the upload each time
            deleted = pool.submit(api.delete, f"/v1/sessions/x{trial}")
            assert deleted.result().status_code == 204
            status, ended = uploaded.result()
            assert status == 201
            upload_s = ended - started
            assert read_back(api, f"y{trial}") == body["sessions"][0]["samples"]
    collect_now(settings)
    assert not unreferenced_files(settings)


def test_concurrent_replacements_leave_one_version_and_no_orphan(server, api, settings):
    with ThreadPoolExecutor(max_workers=RETRIES) as pool:
        for round_ in range(ROUNDS):
            bodies = [session_body("same", 100 * round_ + i) for i in range(RETRIES)]
            statuses = list(pool.map(lambda b: post(server.url, b, replace=True), bodies))
            assert set(statuses) <= ACKNOWLEDGED, statuses
            stored = read_back(api, "same")
            assert stored in [b["sessions"][0]["samples"] for b in bodies]
    collect_now(settings)
    assert not unreferenced_files(settings)
    assert len(referenced_files(settings)) == 1
