"""Several worker hosts, simulated honestly: one API process and three `motionlab worker`
processes that share nothing but the PostgreSQL URL and the S3 store URL, each with a home of
its own. Thirty queued runs each run exactly once; `kill -9` of one host mid-run loses nothing:
its run is reclaimed by another host once its heartbeat goes stale."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.homes import FAST
from tests.support.processes import alive, process_tree
from tests.support.runs import start_run, upload_tiny, wait_for
from tests.support.servers import free_port, serve_environment, start_serve_process

pytestmark = pytest.mark.system  # four processes and thirty real trainings

RUNS = 30
HOSTS = 3
# Quick heartbeats, but a timeout that CPU contention (three trainings on two cores, on a
# machine busy with more) does not reach by itself: only the killed host's run may be
# reclaimed (5 s was reached on a loaded machine: a second attempt of a live host's run).
HEARTBEATS = {**FAST, "heartbeat_timeout_s": 10.0}


@contextmanager
def worker_hosts(tmp_path: Path, shared: dict[str, str]) -> Iterator[list[subprocess.Popen]]:
    """`motionlab worker` on HOSTS "hosts": each its own home, the shared URLs alone."""
    hosts = []
    for index in range(HOSTS):
        home = tmp_path / f"worker-host-{index}"
        home.mkdir()
        environment = serve_environment(home, free_port(), **shared)
        command = [sys.executable, "-m", "service.cli", "worker"]
        hosts.append(subprocess.Popen(command, env=environment))
    try:
        yield hosts
    finally:
        for host in hosts:
            if host.poll() is None:
                host.terminate()
        for host in hosts:
            host.wait(timeout=60)


def worker_pid(run: dict) -> int:
    """The pid in a run's `claimed_by` (`host:pid:thread`)."""
    return int(run["claimed_by"].split(":")[1])


def freeze_a_host_mid_run(api: httpx.Client, hosts: list[subprocess.Popen]) -> tuple[int, dict]:
    """Stop (SIGSTOP) the whole process tree of a host while one of its runs is running: a
    frozen run cannot finish, so the run read afterwards is still running when it is killed."""
    pids = {host.pid for host in hosts}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for run in api.get("/v1/runs", params={"status": "running"}).json()["items"]:
            if run["claimed_by"] and worker_pid(run) in pids:
                tree = process_tree(worker_pid(run))
                for pid in tree:
                    os.kill(pid, signal.SIGSTOP)
                now = api.get(f"/v1/runs/{run['id']}").json()
                if now["status"] == "running" and now["claimed_by"] == run["claimed_by"]:
                    return worker_pid(run), now
                for pid in tree:
                    os.kill(pid, signal.SIGCONT)  # it finished meanwhile: try another
        time.sleep(0.02)
    raise AssertionError("no run was seen running")


def test_three_worker_hosts_run_each_of_thirty_runs_once_and_survive_a_killed_host(
    tmp_path, postgres_url, s3_endpoint, s3_url
):
    shared = {
        "database_url": postgres_url,
        "store_url": s3_url,
        "s3_endpoint_url": s3_endpoint,
        **{name: str(value) for name, value in HEARTBEATS.items()},
    }
    api_port = free_port()
    api_server = start_serve_process(tmp_path / "api-host", api_port, workers="0", **shared)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=60) as api:
            upload_tiny(api, sessions=6, rows=200)
            body = {"prediction_window": 10, "max_iterations": 3, "split": {"strategy": "none"}}
            ids = [start_run(api, **body, random_seed=seed) for seed in range(RUNS)]

            with worker_hosts(tmp_path, shared) as hosts:
                killed_pid, victim = freeze_a_host_mid_run(api, hosts)
                tree = process_tree(killed_pid)
                for pid in tree:
                    os.kill(pid, signal.SIGKILL)  # the host is gone: no hand-back, no cleanup
                killed_at = time.monotonic()
                reclaimed = wait_for(
                    api,
                    victim["id"],
                    {"running", "succeeded"},
                    timeout_s=60,
                    check=lambda run: run["claimed_by"] != victim["claimed_by"],
                )
                reclaim_s = time.monotonic() - killed_at
                runs = [wait_for(api, run_id, {"succeeded", "failed"}, 240) for run_id in ids]
                survivors = [host for host in hosts if host.pid != killed_pid]
                assert all(host.poll() is None for host in survivors)
            assert not any(alive(pid) for pid in tree)
    finally:
        api_server.terminate()
        api_server.wait(timeout=30)

    # No run lost: every one succeeded.
    assert [run["status"] for run in runs] == ["succeeded"] * RUNS
    # None duplicated: one claim each, except the killed host's run (its second attempt).
    attempts = {run["id"]: run["attempts"] for run in runs}
    assert attempts.pop(victim["id"]) == 2
    assert set(attempts.values()) == {1}
    # Reclaimed by another host once the heartbeat went stale (plus one reaping interval).
    assert worker_pid(reclaimed) != killed_pid
    timeout_s, interval_s = HEARTBEATS["heartbeat_timeout_s"], HEARTBEATS["heartbeat_interval_s"]
    assert reclaim_s <= timeout_s + interval_s + 5.0, reclaim_s
    # The work was shared: every host claimed runs (the killed one at least its victim).
    assert len({run["claimed_by"] for run in runs}) >= 2
