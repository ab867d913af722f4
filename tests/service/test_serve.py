"""`motionlab serve` as an operator runs it: the API with embedded workers, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.conftest import free_port, start_serve_process


def children_of(pid: int) -> list[int]:
    path = f"/proc/{pid}/task/{pid}/children"
    return [int(p) for p in Path(path).read_text().split()] if os.path.exists(path) else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_sigterm_to_serve_stops_its_embedded_workers(tmp_path):
    server = start_serve_process(tmp_path, free_port(), workers="2")
    try:
        workers = [pid for pid in children_of(server.pid) if alive(pid)]
        assert len(workers) >= 2
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        deadline = time.monotonic() + 20
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [Path(f"/proc/{p}/cmdline").read_text() for p in workers if alive(p)]
        assert not left, f"worker processes outlived serve: {left}"
    finally:
        server.kill()
