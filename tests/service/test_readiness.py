"""/readyz says ready only once every embedded worker can claim a run (issue 26, defect 8).

A worker process is alive seconds before it can claim: it imports torch and warms its fork
server first. /readyz answered 200 in that time, at the start and after each restart, so a
load balancer sent work to a server whose queue nobody was reading yet.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from service.app import create_app
from tests.support.processes import process_tree
from tests.support.servers import free_port, serve_environment

WAIT_S = 120


def warm_workers(server_pid: int) -> list[int]:
    """The workers under `serve` whose fork server runs: those that can claim a run."""
    tree = process_tree(server_pid)
    return sorted({parent(pid) for pid in tree if is_fork_server(pid) and parent(pid) in tree})


def is_fork_server(pid: int) -> bool:
    try:
        return b"multiprocessing.forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False


def parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except FileNotFoundError:
        return 0


def wait_for_readiness(api: httpx.Client, status: int) -> dict:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        answer = api.get("/readyz")
        if answer.status_code == status:
            return answer.json()
        time.sleep(0.02)
    raise AssertionError(f"/readyz never answered {status}")


@pytest.mark.system
def test_readyz_is_ready_only_when_the_worker_can_claim_at_start_and_after_a_restart(tmp_path):
    port = free_port()
    environment = serve_environment(tmp_path, port, workers="1")
    command = [sys.executable, "-m", "service.cli"]
    subprocess.run([*command, "migrate"], env=environment, check=True)
    server = subprocess.Popen([*command, "serve"], env=environment)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as api:
            deadline = time.monotonic() + WAIT_S
            while time.monotonic() < deadline:  # until the API answers at all
                try:
                    starting = api.get("/readyz")
                    break
                except httpx.TransportError:
                    time.sleep(0.02)
            ready = wait_for_readiness(api, 200)
            [worker] = warm_workers(server.pid)  # ready: its fork server already runs
            assert ready["workers"] == {"expected": 1, "alive": 1, "ready": 1, "restarts": 0}
            if starting.status_code == 503:
                assert "not yet able to claim runs" in starting.json()["detail"]

            os.kill(worker, signal.SIGKILL)
            wait_for_readiness(api, 503)
            ready = wait_for_readiness(api, 200)
            assert ready["workers"]["restarts"] == 1
            [restarted] = warm_workers(server.pid)
            assert restarted != worker
    finally:
        server.terminate()
        server.wait(30)


class StartingWorkers:
    def status(self) -> dict[str, int]:
        return {"expected": 2, "alive": 2, "ready": 1, "restarts": 0}


def test_a_worker_alive_but_not_warm_is_not_ready(settings):
    app = create_app(settings, workers=StartingWorkers())
    with TestClient(app, base_url="http://127.0.0.1") as client:
        answer = client.get("/readyz")
    assert answer.status_code == 503
    assert "1 of 2 embedded workers are starting" in answer.json()["problems"][0]
