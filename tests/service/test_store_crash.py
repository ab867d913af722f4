"""`kill -9` of `motionlab serve` in the middle of storing an upload, then a restart."""

from __future__ import annotations

import http.client
import os
import signal
import sqlite3
import threading
import time

import httpx
import pytest

from core.settings import Settings
from tests.support.servers import free_port, start_serve_process
from tests.support.storage import store_files, unreferenced_files

SESSIONS, ROWS = 3000, 20
GRACE = {"store_grace_period_s": "2", "store_collect_interval_s": "0.5", "workers": "0"}


def stacked_csv() -> bytes:
    lines = ["sessionId,activity,x,y"]
    for s in range(SESSIONS):
        lines += [f"k{s:04d},{'ab'[s % 2]},{s + r * 0.5},{r}" for r in range(ROWS)]
    return ("\n".join(lines) + "\n").encode()


def send(port: int, body: bytes) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("POST", "/v1/sessions", body=body, headers={"Content-Type": "text/csv"})
        connection.getresponse().read()
    except (ConnectionError, http.client.HTTPException):
        pass  # the server was killed under it
    finally:
        connection.close()


@pytest.mark.system
def test_kill_9_mid_upload_leaves_no_half_stored_session_and_orphans_are_collected(tmp_path):
    home, port, body = tmp_path / "home", free_port(), stacked_csv()
    settings = Settings(home=home)
    server = start_serve_process(home, port, **GRACE)
    uploading = threading.Thread(target=send, args=(port, body))
    uploading.start()
    deadline = time.monotonic() + 60
    while not store_files(settings) and uploading.is_alive() and time.monotonic() < deadline:
        time.sleep(0.001)
    assert uploading.is_alive(), "the upload ended before its pack was being written"
    os.kill(server.pid, signal.SIGKILL)  # as soon as the store has started writing
    server.wait()
    uploading.join()

    with sqlite3.connect(home / "motionlab.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    server = start_serve_process(home, port, **GRACE)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as api:
            total = api.get("/v1/sessions").json()["total"]
            assert total in (0, SESSIONS), "an upload is stored whole or not at all"
            deadline = time.monotonic() + 30
            while unreferenced_files(settings) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not unreferenced_files(settings), "orphans outlived the grace period"
            again = api.post("/v1/sessions", content=body, headers={"Content-Type": "text/csv"})
            assert again.status_code in (200, 201), again.text
            for session_id in ("k0000", "k1234", f"k{SESSIONS - 1:04d}"):
                samples = api.get(f"/v1/sessions/{session_id}/samples")
                assert samples.status_code == 200, samples.text
                assert len(samples.text.splitlines()) == ROWS + 1
    finally:
        server.terminate()
        server.wait()
