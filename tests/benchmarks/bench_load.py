"""Run data loading: from the claim to the engine's first iteration, over 10,000 stored
sessions of 100 rows (10 uploads of 1,000: 10 packs).

A real `motionlab serve` (no embedded worker) stores the sessions and queues the run; then a
real `motionlab worker` claims it. Timed from the claim (the run's started_at) to the worker's
`run started` log line, written once the run's data is loaded and handed to the engine (the
first iteration starts then; the run is canceled there: its epoch is not what is measured),
with the run process's start (its attempt marker file, touched just before loading) between.
Target (issue #12): claim -> data loaded <= 1 s.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from tests.support.bulk_sessions import ROWS, SESSIONS_PER_UPLOAD, UPLOADS, upload_sessions
from tests.support.runs import start_run, wait_for
from tests.support.servers import free_port, serve_environment, start_serve_process

RUN_BODY = {"prediction_window": 10, "max_iterations": 1, "split": {"strategy": "none"}}


def stamp(database: Path, query: str, run_id: str) -> float:
    with sqlite3.connect(database) as db:
        (value,) = db.execute(query, (run_id,)).fetchone()
    return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()


def bench_load() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home, port = Path(tmp) / "home", free_port()
        server = start_serve_process(home, port, workers="0")
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as api:
                upload_sessions(api)
                run_id = start_run(api, **RUN_BODY)
                environment = serve_environment(home, port, log_level="INFO")
                worker = subprocess.Popen(
                    [sys.executable, "-m", "service.cli", "worker"],
                    env=environment,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                loaded: list[float] = []

                def watch() -> None:
                    assert worker.stderr is not None
                    for line in worker.stderr:
                        if "run started" in line and not loaded:
                            loaded.append(time.time())

                watcher = threading.Thread(target=watch, daemon=True)
                watcher.start()
                try:
                    deadline = time.monotonic() + 300
                    while not loaded and time.monotonic() < deadline:
                        time.sleep(0.05)
                    assert loaded, "the run never started"
                    api.post(f"/v1/runs/{run_id}/cancel")
                    wait_for(api, run_id, {"canceled", "succeeded"}, timeout_s=120)
                finally:
                    worker.terminate()
                    worker.wait()
        finally:
            server.terminate()
            server.wait()
        claimed = stamp(home / "motionlab.db", "SELECT started_at FROM runs WHERE id = ?", run_id)
        (marker,) = (home / "runs" / run_id).glob("attempt-*.started")
        process_started = marker.stat().st_mtime
    sessions = UPLOADS * SESSIONS_PER_UPLOAD
    print(f"\nload: run over {sessions:,} stored sessions x {ROWS} rows ({UPLOADS} packs)")
    print(f"  claim -> data loaded (run started): {loaded[0] - claimed:.3f} s (target <= 1 s)")
    print(f"    claim -> run process started: {process_started - claimed:.3f} s")
    print(f"    run process started -> data loaded: {loaded[0] - process_started:.3f} s")
