"""A fleet of phones for the benchmarks: each posts one recorded session per request.

A session is 3,000 rows × 6 features (a minute at 50 Hz, 184 KB of CSV) with a unique value in
its first row, so content addressing never skips the store. Bodies are made from one
template by a byte replacement, so the load generator spends its CPU on HTTP, not on making
data (it shares the machine's cores with the server, as a load test on one box does).
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from dataclasses import dataclass

import numpy as np

ROWS, FEATURES = 3_000, 6
MARK = b"@@@@@@@@"


def session_template(seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(ROWS, FEATURES)).round(6)
    header = "timestamp," + ",".join(f"f{j}" for j in range(FEATURES))
    lines = [header, "0.0," + ",".join(["@@@@@@@@"] + ["0"] * (FEATURES - 1))]
    lines += [
        f"{i / 50:.2f}," + ",".join(map(repr, row)) for i, row in enumerate(values[1:].tolist())
    ]
    return ("\n".join(lines) + "\n").encode()


@dataclass
class FleetResult:
    clients: int
    requests: int
    elapsed_s: float
    latencies_s: np.ndarray

    @property
    def per_s(self) -> float:
        return self.requests / self.elapsed_s

    def line(self) -> str:
        p50, p99 = np.percentile(self.latencies_s, [50, 99]) * 1000
        return (
            f"c={self.clients:<3} {self.per_s:7,.0f} requests/s   p50 {p50:7.1f} ms   "
            f"p99 {p99:7.1f} ms   max {self.latencies_s.max() * 1000:7.1f} ms"
        )


class PhoneFleet:
    """`clients` phones posting sessions on keep-alive connections until stopped."""

    def __init__(self, port: int, clients: int, *, prefix: str = "phone"):
        self.port = port
        self.clients = clients
        self.prefix = prefix
        self.template = session_template()
        self.counter = itertools.count()
        self.stop = threading.Event()
        self.latencies: list[list[float]] = [[] for _ in range(clients)]
        self.threads = [
            threading.Thread(target=self._phone, args=(i,), daemon=True) for i in range(clients)
        ]
        self.started = self.ended = 0.0

    def __enter__(self) -> PhoneFleet:
        self.started = time.perf_counter()
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()
        self.ended = time.perf_counter()

    def result(self) -> FleetResult:
        latencies = np.concatenate([np.asarray(out, dtype=float) for out in self.latencies])
        return FleetResult(self.clients, len(latencies), self.ended - self.started, latencies)

    def _phone(self, index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Content-Type": "text/csv"}
        out = self.latencies[index]
        while not self.stop.is_set():
            number = next(self.counter)
            body = self.template.replace(MARK, f"{number:08d}".encode(), 1)
            path = (
                f"/v1/sessions?session_id={self.prefix}-{number}&activity=walk"
                f"&subject=p{index}&sample_rate_hz=50"
            )
            started = time.perf_counter()
            connection.request("POST", path, body, headers)
            response = connection.getresponse()
            response.read()
            assert response.status == 201, response.status
            out.append(time.perf_counter() - started)
        connection.close()


def run_fleet(port: int, clients: int, duration_s: float, *, prefix: str) -> FleetResult:
    with PhoneFleet(port, clients, prefix=prefix) as fleet:
        time.sleep(duration_s)
    return fleet.result()
