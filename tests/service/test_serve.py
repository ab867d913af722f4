"""`motionlab serve` as an operator runs it: refused when it could not work or would be open to
the network, its embedded workers supervised, stopped by SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support.processes import alive, process_tree
from tests.support.runs import start_run, upload_tiny, wait_for
from tests.support.servers import (
    free_port,
    serve_environment,
    start_serve_process,
    wait_until_ready,
)
from tests.support.tls import self_signed_certificate
from workers.supervisor import WORKERS_STATUS_FILE

pytestmark = pytest.mark.system


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except FileNotFoundError:
        return ""  # exited meanwhile


def wait_for_fork_servers(server_pid: int, count: int, timeout_s: float = 60) -> list[int]:
    """serve's descendants (workers, their fork servers) once `count` fork servers run."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        tree = [pid for pid in process_tree(server_pid)[1:] if alive(pid)]
        if sum("multiprocessing.forkserver" in command_line(pid) for pid in tree) >= count:
            return tree
        time.sleep(0.1)
    raise AssertionError(f"{count} fork servers did not start: {process_tree(server_pid)}")


def test_sigterm_to_serve_stops_its_embedded_workers(tmp_path):
    server = start_serve_process(tmp_path, free_port(), workers="2")
    try:
        descendants = wait_for_fork_servers(server.pid, 2)
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        deadline = time.monotonic() + 20
        while any(alive(pid) for pid in descendants) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [command_line(pid) for pid in descendants if alive(pid)]
        assert not left, f"processes outlived serve: {left}"
    finally:
        server.kill()


def test_a_quiet_start_that_says_where_everything_is(tmp_path):
    """`motionlab serve` at INFO, as `make run` runs it: the addresses of the dashboard, the
    API and the docs; none of coremltools' harmless import warnings (the workers' fork server
    imports it); each training iteration logged once, with its run."""
    port = free_port()
    environment = serve_environment(tmp_path, port, log_level="INFO", workers="1")
    command = [sys.executable, "-m", "service.cli"]
    subprocess.run([*command, "migrate"], env=environment, check=True, capture_output=True)
    output = tmp_path / "serve.log"
    with output.open("w") as log:
        server = subprocess.Popen(
            [*command, "serve"], env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_until_ready(server, port)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as api:
            upload_tiny(api)
            run_id = start_run(api, prediction_window=5, max_iterations=3, random_seed=1)
            finished = wait_for(api, run_id, {"succeeded", "failed"}, timeout_s=240)
            assert finished["status"] == "succeeded", finished
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    text = output.read_text()
    base = f"http://127.0.0.1:{port}"
    assert f"the dashboard at {base}/  the API at {base}/v1  its docs at {base}/docs" in text
    assert "Failed to load" not in text and "has not been tested" not in text, text
    iterations = [line for line in text.splitlines() if "train_accuracy=" in line]
    assert len(iterations) == 3, iterations
    assert all(f"iteration run_id={run_id} iteration=" in line for line in iterations)


def motionlab(home, port, *args, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        env=serve_environment(home, port, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_unmigrated_home_is_refused_with_what_to_do(tmp_path):
    port = free_port()
    for command in (["serve"], ["worker", "--burst"], ["token", "list"]):
        refused = motionlab(tmp_path, port, *command)
        assert refused.returncode == 2, refused.stderr
        assert "run `motionlab migrate`" in refused.stderr, refused.stderr
    # `serve --migrate` applies them itself, then serves
    server = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--migrate"],
        env=serve_environment(tmp_path, port, workers="0"),
    )
    try:
        wait_until_ready(server, port)
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").json()["schema_revision"]
    finally:
        server.terminate()
        server.wait(30)


def test_a_network_address_without_tokens_is_refused_unless_insecure(tmp_path):
    port = free_port()
    assert motionlab(tmp_path, port, "migrate").returncode == 0
    refused = motionlab(tmp_path, port, "serve", "--host", "0.0.0.0", workers="0")
    assert refused.returncode == 2
    assert "refusing to listen on 0.0.0.0 without API tokens" in refused.stderr
    assert "motionlab token create" in refused.stderr

    log = tmp_path / "serve.log"
    for env in ({"tokens": "ci:read:" + "t" * 32}, {"insecure": "1"}):
        with log.open("w") as output:
            server = subprocess.Popen(
                [sys.executable, "-m", "service.cli", "serve", "--host", "0.0.0.0"],
                env=serve_environment(tmp_path, port, workers="0", **env),
                stderr=output,
            )
            try:
                wait_until_ready(server, port)
            finally:
                server.terminate()
                server.wait(30)
    assert "INSECURE: serving 0.0.0.0 with no API tokens" in log.read_text()


def test_kill_9_of_the_only_embedded_worker_the_run_still_finishes(tmp_path):
    # No heartbeat timeout can help here (10 minutes) and no other worker exists: the
    # supervisor in `serve` reclaims the run itself and starts a new worker.
    port = free_port()
    server = start_serve_process(
        tmp_path,
        port,
        workers="1",
        heartbeat_interval_s="0.2",
        heartbeat_timeout_s="600",
        poll_interval_s="0.1",
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as api:
            upload_tiny(api, sessions=8, rows=400)
            run_id = start_run(api, prediction_window=2, max_iterations=40, random_seed=1)
            run = wait_for(
                api,
                run_id,
                {"running"},
                check=lambda r: api.get(f"/v1/runs/{run_id}/progress").json(),
            )
            worker_pid = int(run["claimed_by"].split(":")[1])
            assert worker_pid in process_tree(server.pid)
            os.kill(worker_pid, signal.SIGKILL)

            deadline, readiness = time.monotonic() + 10, []
            while time.monotonic() < deadline:
                answer = api.get("/readyz")
                readiness.append(answer.status_code)
                if answer.status_code == 503:
                    assert answer.json()["workers"]["alive"] == 0
                    assert "not alive" in answer.json()["problems"][0]
                    break
                time.sleep(0.02)
            assert 503 in readiness, "/readyz never said that no worker was alive"

            run = wait_for(api, run_id, {"succeeded", "failed"}, timeout_s=240)
            assert run["status"] == "succeeded" and run["attempts"] == 2, run
            assert len(api.get(f"/v1/runs/{run_id}/progress").json()) == 40
            ready = api.get("/readyz")
            assert ready.status_code == 200
            assert ready.json()["workers"] == {"expected": 1, "alive": 1, "ready": 1, "restarts": 1}
    finally:
        server.terminate()
        server.wait(30)


def api_processes(server_pid: int, home: Path) -> list[int]:
    """serve's spawned children that are not its embedded workers (their pids: workers.json)."""
    workers = json.loads((home / WORKERS_STATUS_FILE).read_text())["pids"]
    children = map(int, Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split())
    return [
        pid
        for pid in children
        if pid not in workers and alive(pid) and "spawn_main" in command_line(pid)
    ]


def upload_round(port: int, round_number: int, phones: int = 8) -> list[str]:
    """`phones` concurrent one-session uploads; the ids acknowledged with 201."""

    def post(index: int) -> str:
        session_id = f"r{round_number}-p{index}"
        body = "x,y\n" + "\n".join(f"{index + i},{round_number}" for i in range(50))
        response = httpx.post(
            f"http://127.0.0.1:{port}/v1/sessions",
            params={"session_id": session_id, "activity": "ab"[index % 2]},
            content=body,
            headers={"Content-Type": "text/csv"},
            timeout=60,
        )
        assert response.status_code == 201, response.text
        return session_id

    with ThreadPoolExecutor(phones) as pool:
        return list(pool.map(post, range(phones)))


def test_several_api_processes_share_the_port_one_database_and_one_worker_pool(tmp_path):
    port = free_port()
    server = start_serve_process(tmp_path, port, "--api-processes", "2", workers="1")
    try:
        deadline = time.monotonic() + 30
        while len(api_processes(server.pid, tmp_path)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(api_processes(server.pid, tmp_path)) == 2
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as api:
            ready = api.get("/readyz").json()
            assert ready["workers"] == {"expected": 1, "alive": 1, "ready": 1, "restarts": 0}
            acknowledged = [sid for n in range(3) for sid in upload_round(port, n)]
            stored = api.get("/v1/sessions", params={"limit": 100}).json()
            assert sorted(s["id"] for s in stored["items"]) == sorted(acknowledged)

            run_id = start_run(api, prediction_window=5, max_iterations=2, random_seed=1)
            assert wait_for(api, run_id, {"succeeded", "failed"})["status"] == "succeeded"

            victim = api_processes(server.pid, tmp_path)[0]
            os.kill(victim, signal.SIGKILL)  # uvicorn starts another in its place
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                survivors = api_processes(server.pid, tmp_path)
                if len(survivors) == 2 and victim not in survivors:
                    break
                time.sleep(0.1)
            assert len(survivors) == 2 and victim not in survivors
            assert api.get("/v1/stats").json()["sessions"] == len(acknowledged)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)


def test_serve_speaks_https_with_a_certificate_and_key_and_refuses_a_wrong_pair(tmp_path):
    port = free_port()
    assert motionlab(tmp_path, port, "migrate").returncode == 0
    cert, key = self_signed_certificate(tmp_path / "tls")
    alone = motionlab(tmp_path, port, "serve", "--tls-cert", str(cert), workers="0")
    assert alone.returncode == 2
    assert "--tls-cert needs --tls-key too" in alone.stderr
    other_cert, _ = self_signed_certificate(tmp_path / "other")
    mismatched = ["serve", "--tls-cert", str(other_cert), "--tls-key", str(key)]
    refused = motionlab(tmp_path, port, *mismatched, workers="0")
    assert refused.returncode == 2
    assert f"cannot serve HTTPS with certificate {other_cert} and key {key}" in refused.stderr

    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "service.cli",
            "serve",
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
        ],
        env=serve_environment(tmp_path, port, workers="0"),
    )
    trusted = ssl.create_default_context(cafile=str(cert))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                ready = httpx.get(f"https://127.0.0.1:{port}/readyz", verify=trusted)
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline and server.poll() is None, "no HTTPS server"
                time.sleep(0.1)
        assert ready.status_code == 200
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"https://127.0.0.1:{port}/readyz")  # not a public CA's certificate
        with pytest.raises(httpx.TransportError):  # plain HTTP on the HTTPS port
            httpx.get(f"http://127.0.0.1:{port}/readyz")
    finally:
        server.terminate()
        server.wait(30)


def test_serve_steps_numpy_models_without_blas_threads():
    """`serve` loads NumPy with one OpenBLAS thread: no thread per core that waits for the other
    requests' cores (a Turi Create window took 56 ms instead of 1.3 ms on a busy host)."""
    script = (
        "import os\n"
        "from service.cli import one_blas_thread\n"
        "one_blas_thread()\n"
        "import numpy\n"
        "print(len(os.listdir('/proc/self/task')))\n"
    )
    environment = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    result = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1"]  # the interpreter's own thread, no BLAS thread
