"""`motionlab serve` as an operator runs it: the API with embedded workers, stopped by SIGTERM."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from tests.conftest import alive, free_port, process_tree, start_serve_process


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
