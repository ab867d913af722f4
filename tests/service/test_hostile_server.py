"""Every hostile request of issue 26 fired at a live `motionlab serve` while another client
polls /healthz: each gets its documented answer, and no poll stalls for more than a second.

A robustness check, not a benchmark: before the fixes the freezes lasted seconds (80,000
empty gzip members: 5.6 s; an 8 MB gzip bomb: 2.7 s; a 25 MB gzip upload: 0.9 s), so the
bound is generous enough not to flake on a busy machine. The worst latency, and the server's
peak memory growth for each request, are printed (`pytest -s`). Meanwhile a live client
streams faster than the model for longer than uvicorn's keepalive ping took to close it.
"""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import cbor2
import httpx
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.support.basicmotions import FEATURES
from tests.support.hostile_bodies import (
    edge_impulse_body,
    gzip_bomb,
    gzip_members,
    json_body,
    multipart,
    nested_json,
    sensor_logger_far_apart,
    sensor_rows_csv,
)
from tests.support.servers import free_port, serve_environment, wait_until_ready

# `motionlab serve` for a minute: the live client outlasts uvicorn's old keepalive
pytestmark = pytest.mark.system

STALL_LIMIT_S = 1.0
POLL_INTERVAL_S = 0.02
FLOOD_S = 45.0  # uvicorn's keepalive closed a held-back stream after 20 s + 20 s
FLOOD_ROWS_PER_FRAME = 1500
TOKENS = {scope: f"{scope}-token-{'h' * 24}" for scope in ("upload", "train", "admin")}
CSV, JSON = "text/csv", "application/json"
JSON_LIMIT = 16 << 20  # MOTIONLAB_MAX_JSON_BYTES


@dataclass
class Probe:
    """One hostile request and the answer the README promises for it."""

    name: str
    path: str
    body: bytes
    content_type: str
    expected: int
    headers: dict[str, str] = field(default_factory=dict)
    token: str = "admin"


def probes(run_id: str) -> list[Probe]:
    victim = b"sessionId,activity,x\nvictim,walk,1\nvictim,walk,2\n"
    legit = sensor_rows_csv(seed=26, rows=870_000)  # ~64 MB of CSV
    nfd = unicodedata.normalize("NFD", "caf\u00e9").encode()
    zip_upload = "/v1/sessions?session_id=far&activity=walk&sample_rate_hz=1"
    one_file, form_type = multipart("rec.csv.gz", gzip_members(80_000))
    named, named_type = multipart("walk-9.csv", b"x\n1\n2\n")
    gz = {"Content-Encoding": "gzip"}
    return [
        Probe("victim uploaded", "/v1/sessions", victim, CSV, 201, token="upload"),
        Probe(
            "replace=y with an upload token",
            "/v1/sessions?session_id=victim&replace=y",
            victim.replace(b",2", b",666"),
            CSV,
            403,
            token="upload",
        ),
        *[
            Probe(f"gzip, {n:,} empty members", "/v1/sessions", gzip_members(n), CSV, status, gz)
            for n, status in ((5_000, 422), (20_000, 413), (40_000, 413), (80_000, 413))
        ],
        Probe(
            "predict, gzip of 80,000 members",
            f"/v1/runs/{run_id}/predict",
            gzip_members(80_000),
            CSV,
            413,
            gz,
        ),
        Probe("multipart .gz of 80,000 members", "/v1/sessions", one_file, form_type, 413),
        Probe(
            "gzip bomb, 8 MB, size field forged", "/v1/sessions", gzip_bomb(8 << 20), CSV, 413, gz
        ),
        Probe(
            f"gzip upload, {len(legit) >> 20} MB of CSV",
            "/v1/sessions",
            gzip.compress(legit, 1),
            CSV,
            201,
            gz,
        ),
        Probe(
            "sensor logger, 2 rows 2e7 s apart, 1 Hz",
            zip_upload,
            sensor_logger_far_apart(2e7),
            "application/zip",
            413,
        ),
        Probe(
            "sensor logger, 2 rows 3e9 s apart, 1 Hz",
            zip_upload,
            sensor_logger_far_apart(3e9),
            "application/zip",
            413,
        ),
        Probe("JSON upload, 15 MB", "/v1/sessions", json_body(JSON_LIMIT), JSON, 201),
        Probe(
            "Edge Impulse CBOR, 15 MB",
            "/v1/sessions?session_id=cbor&activity=idle",
            edge_impulse_body(JSON_LIMIT, cbor2.dumps),
            "application/cbor",
            201,
        ),
        Probe("JSON nested 100,000 deep", "/v1/sessions", nested_json(100_000), JSON, 400),
        Probe(
            "JSON sample true",
            "/v1/sessions",
            b'{"sessions": [{"id": "t", "activity": "a", "columns": ["x"], "samples": [[true]]}]}',
            JSON,
            422,
        ),
        Probe("CSV 0x1A", "/v1/sessions", b"sessionId,activity,x\nh,a,0x1A\n", CSV, 422),
        Probe(
            "Content-Encoding: br",
            "/v1/sessions",
            b"sessionId,activity,x\nb,a,1\n",
            CSV,
            415,
            {"Content-Encoding": "br"},
        ),
        Probe(
            "label with U+200B",
            "/v1/sessions",
            "sessionId,activity,x\nz,wa\u200blk,1\n".encode(),
            CSV,
            422,
        ),
        Probe("label in NFD", "/v1/sessions", b"sessionId,activity,x\nnfd,%s,1\n" % nfd, CSV, 201),
        Probe(
            "one multipart file, no id column", "/v1/sessions?activity=walk", named, named_type, 201
        ),
    ]


def memory_kib(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name):
            return int(line.split()[1])
    raise AssertionError(field_name)


class HealthPoller(threading.Thread):
    """GET /healthz every POLL_INTERVAL_S; the latency of each poll, with its start."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url = url
        self.polls: list[tuple[float, float]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self.stopping.is_set():
                started = time.monotonic()
                assert client.get("/healthz").status_code == 200
                self.polls.append((started, time.monotonic() - started))
                time.sleep(POLL_INTERVAL_S)

    def worst_s(self, since: float = 0.0, until: float = float("inf")) -> float:
        return max((s for t, s in self.polls if since <= t + s and t <= until), default=0.0)


class FastLiveClient(threading.Thread):
    """Streams frames as fast as the socket takes them for FLOOD_S, reading predictions in
    another thread: faster than the model, so TCP holds it back."""

    def __init__(self, url: str, rows: np.ndarray):
        super().__init__(daemon=True)
        self.url = url
        self.frame = json.dumps({"rows": rows.tolist()})
        self.rows_sent = 0
        self.messages: list[dict] = []
        self.closed: ConnectionClosed | None = None
        self.reader = threading.Thread(target=self.read, daemon=True)

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {TOKENS['train']}"}
        # No keepalive pings of its own: held back, the server reads nothing, pongs included.
        with connect(
            self.url, additional_headers=headers, open_timeout=30, ping_interval=None
        ) as self.socket:
            assert json.loads(self.socket.recv(timeout=30))["type"] == "ready"
            self.reader.start()
            deadline = time.monotonic() + FLOOD_S
            try:
                while time.monotonic() < deadline:
                    self.socket.send(self.frame)
                    self.rows_sent += FLOOD_ROWS_PER_FRAME
                self.socket.send(json.dumps({"end": True}))
            except ConnectionClosed as closed:
                self.closed = closed
            self.reader.join(300)

    def read(self) -> None:
        try:
            while not self.messages or self.messages[-1]["type"] != "end":
                self.messages.append(json.loads(self.socket.recv(timeout=120)))
        except ConnectionClosed as closed:
            self.closed = closed


def test_no_hostile_request_stalls_the_event_loop(served, tmp_path):
    requests = probes(served.run_id)  # built before the clock starts
    port = free_port()
    tokens = ",".join(f"{scope}:{scope}:{token}" for scope, token in TOKENS.items())
    environment = serve_environment(served.settings.home, port, workers="0", tokens=tokens)
    environment["MOTIONLAB_LOG_LEVEL"] = "INFO"
    if served.settings.database_url:
        environment["MOTIONLAB_DATABASE_URL"] = served.settings.database_url
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        server = subprocess.Popen(  # uvicorn's access log goes to stdout, the rest to stderr
            [sys.executable, "-m", "service.cli", "serve"],
            env=environment,
            stdout=output,
            stderr=output,
        )
    try:
        wait_until_ready(server, port)
        url = f"http://127.0.0.1:{port}"
        load_the_model(url, served.run_id)
        poller = HealthPoller(url)
        poller.start()
        rows = np.random.default_rng(0).normal(size=(FLOOD_ROWS_PER_FRAME, len(FEATURES)))
        live = FastLiveClient(url.replace("http", "ws") + f"/v1/runs/{served.run_id}/live", rows)
        live.start()
        results = fire(url, server.pid, requests, poller)
        results += fire_at_live(url, served.run_id, poller)
        declared_kib = declared_growth_kib(port, server.pid)
        live.join(FLOOD_S + 300)
        poller.stopping.set()
        poller.join(30)
    finally:
        server.terminate()
        server.wait(30)

    print(
        f"\n{'request':<44} {'status':>6} {'seconds':>8} {'worst /healthz':>15} {'peak RSS +':>11}"
    )
    for name, status, expected, seconds, worst, growth_kib in results:
        answer = f"{status}" if status == expected else f"{status}!={expected}"
        print(
            f"{name:<44} {answer:>6} {seconds:>8.2f} {worst:>13.3f} s {growth_kib / 1024:>7.0f} MiB"
        )
    print(f"a body of 400 MB declared, none sent: server RSS +{declared_kib / 1024:.0f} MiB")
    worst = poller.worst_s()
    when = max(poller.polls, key=lambda poll: poll[1])[0] - poller.polls[0][0]
    print(f"worst /healthz latency over {len(poller.polls)} polls: {worst:.3f} s, {when:.1f} s in")
    print(
        f"live client: {live.rows_sent:,} rows sent in {FLOOD_S:g} s, "
        f"{sum(m['type'] == 'prediction' for m in live.messages):,} predictions received"
    )
    assert [(r[0], r[1]) for r in results] == [(r[0], r[2]) for r in results]
    assert worst < STALL_LIMIT_S
    assert declared_kib < 100 << 10  # the declared size is not reserved before it arrives
    assert live.closed is None, f"the live stream was closed: {live.closed}"
    assert live.messages[-1]["type"] == "end" and live.messages[-1]["num_rows"] == live.rows_sent
    server_log = log.read_text()
    assert "live?token=[redacted]" in server_log and TOKENS["train"] not in server_log
    assert '"GET /healthz HTTP/1.1" 200' in server_log  # the access log is in it too


def load_the_model(url: str, run_id: str) -> None:
    """One prediction before the clock starts. The first model load after a start imports
    torch (seconds of CPU in a thread; its library loaded with the GIL released:
    service.lazy_imports): a cost of the start, paid once, that no hostile request makes."""
    rows = "\n".join(",".join(["0.1"] * len(FEATURES)) for _ in range(100))
    response = httpx.post(
        f"{url}/v1/runs/{run_id}/predict",
        content=",".join(FEATURES) + "\n" + rows + "\n",
        headers={"Content-Type": CSV, "Authorization": f"Bearer {TOKENS['admin']}"},
        timeout=300,
    )
    assert response.status_code == 200, response.text


def fire(url: str, pid: int, requests: list[Probe], poller: HealthPoller) -> list[tuple]:
    """Each request in turn: (name, status, expected, seconds, worst poll, peak RSS growth)."""
    results = []
    with httpx.Client(base_url=url, timeout=300) as client:
        for probe in requests:
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # peak RSS := RSS now
            before_kib = memory_kib(pid, "VmRSS")
            headers = {
                "Content-Type": probe.content_type,
                "Authorization": f"Bearer {TOKENS[probe.token]}",
                **probe.headers,
            }
            started = time.monotonic()
            status = client.post(probe.path, content=probe.body, headers=headers).status_code
            ended = time.monotonic()
            growth = memory_kib(pid, "VmHWM") - before_kib
            worst = poller.worst_s(started, ended)
            results.append((probe.name, status, probe.expected, ended - started, worst, growth))
    return results


def fire_at_live(url: str, run_id: str, poller: HealthPoller) -> list[tuple]:
    """The live stream's hostile frames, each from a client with a token in its query."""
    results = []
    live = url.replace("http", "ws") + f"/v1/runs/{run_id}/live"
    headers = {"Authorization": f"Bearer {TOKENS['train']}"}
    frames = {
        "live frame nested 100,000 deep": ('{"rows": ' + "[" * 100_000 + "]" * 100_000 + "}", 4400),
        "live frame of 1.5 MB": (json.dumps({"rows": [[0.5] * 300] * 1000}), 1009),
        "live frame with true": (json.dumps({"rows": [[True] * len(FEATURES)]}), 4422),
    }
    for name, (frame, expected) in frames.items():
        started = time.monotonic()
        with connect(f"{live}?token={TOKENS['train']}", additional_headers=headers) as stream:
            stream.recv(timeout=30)  # ready
            stream.send(frame)
            with pytest.raises(ConnectionClosed) as closing:
                while True:
                    stream.recv(timeout=30)
        code = closing.value.rcvd.code if closing.value.rcvd else None
        ended = time.monotonic()
        results.append((name, code, expected, ended - started, poller.worst_s(started, ended), 0))
    return results


def declared_growth_kib(port: int, pid: int) -> int:
    """The server's memory growth while a request declares 400 MB and sends 21 bytes."""
    before_kib = memory_kib(pid, "VmRSS")
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(
            b"POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\n"
            + f"Authorization: Bearer {TOKENS['admin']}\r\n".encode()
            + f"Content-Length: {400 << 20}\r\n\r\nsessionId,activity,x\n".encode()
        )
        time.sleep(1.0)
        return memory_kib(pid, "VmRSS") - before_kib
