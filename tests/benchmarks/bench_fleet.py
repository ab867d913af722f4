"""A fleet of phones uploading to a real `motionlab serve` (run with `make bench`).

Each phone posts one 184 KB session (3,000 rows × 6 features, unique content) per request on a
keep-alive connection, at 1, 8 and 32 phones for DURATION_S each: requests/s, p50, p99 and max
latency and the server's CPU time per request; with one API process, then with
`serve --api-processes 2`. Targets (issue #20,
2 cores): ≥ 250 requests/s at c=8, p99 ≤ 300 ms at c=32.
"""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

from tests.support.phone_fleet import FleetResult, run_fleet, session_template
from tests.support.processes import tree_cpu_seconds
from tests.support.servers import free_port, start_serve_process

DURATION_S = 10.0
CONCURRENCY = (1, 8, 32)
API_PROCESSES = (1, 2)
# The server's CPU time per request (its process tree's, over each level): what the machine
# pays per upload whatever else runs on it, where requests/s depend on that.
cpu_ms: dict[tuple[int, int], float] = {}


def fleet(api_processes: int) -> list[FleetResult]:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start_serve_process(
            Path(tmp) / "home", port, "--api-processes", str(api_processes), workers="1"
        )
        try:
            run_fleet(port, 2, 2.0, prefix="warm-up")
            results = []
            for c in CONCURRENCY:
                cpu_before = tree_cpu_seconds(server.pid)
                result = run_fleet(port, c, DURATION_S, prefix=f"c{c}")
                cpu_ms[(api_processes, c)] = (
                    (tree_cpu_seconds(server.pid) - cpu_before) * 1000 / result.requests
                )
                results.append(result)
            return results
        finally:
            server.send_signal(signal.SIGINT)  # SIGINT: `serve` stops its workers too
            server.wait()


def bench_fleet() -> None:
    results = {processes: fleet(processes) for processes in API_PROCESSES}
    size_kb = len(session_template()) / 1000
    print(f"\nfleet: one {size_kb:.0f} KB session per request, {os.cpu_count()} cores")
    for processes, rows in results.items():
        print(f"  {processes} API process{'es' if processes > 1 else ''}:")
        for result in rows:
            cpu = cpu_ms[(processes, result.clients)]
            print(f"    {result.line()}   server CPU {cpu:.1f} ms/request")
    print("  targets: >= 250 requests/s at c=8, p99 <= 300 ms at c=32")
