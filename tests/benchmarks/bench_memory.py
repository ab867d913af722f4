"""Memory of `motionlab serve` with one embedded worker: PSS summed over its process tree.

A real `serve` (API, supervisor's worker, the worker's fork server) in a migrated SQLite home,
measured three times: 5 s after /readyz answers 200 (idle); after one bulk upload of the
400 sessions × 1,000 rows × 6 features of bench_train (a 2.4 M-value CSV); and after a torch
run over them has succeeded (window 20, 5 epochs) and its child is gone. PSS (proportional set
size, /proc/PID/smaps_rollup) counts a page shared by n processes as 1/n in each: the sum is
what the tree costs the machine, where RSS counts forked pages once per process.
Targets (issue #31): ≤ 450 MiB idle (608 before), ≤ 700 MiB after a training run (~950).
"""

from __future__ import annotations

import io
import signal
import tempfile
import time
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.csv as pacsv

from tests.support.processes import process_tree
from tests.support.runs import start_run, wait_for
from tests.support.servers import free_port, start_serve_process
from tests.support.synthetic import synthetic_sessions

IDLE_TARGET_MIB, IDLE_BASELINE_MIB = 450, 608
TRAINED_TARGET_MIB, TRAINED_BASELINE_MIB = 700, 950
SETTLE_S = 5


def kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        return next(int(line.split()[1]) for line in rollup if line.startswith(f"{field}:"))


def tree_memory(root: int) -> tuple[float, list[tuple[str, float, float]]]:
    """(PSS MiB summed, [(process, PSS MiB, RSS MiB)]) of `root`'s tree."""
    rows = []
    for pid in process_tree(root):
        name = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:70]
        rows.append((name.strip(), kib(pid, "Pss") / 1024, kib(pid, "Rss") / 1024))
    return sum(pss for _, pss, _ in rows), rows


def report(label: str, root: int, target: float, baseline: object) -> None:
    total, rows = tree_memory(root)
    print(f"  {label}: PSS {total:.0f} MiB (target <= {target}, baseline {baseline})")
    for name, pss, rss in rows:
        print(f"    {pss:6.0f} MiB PSS {rss:6.0f} MiB RSS  {name}")


def training_csv() -> bytes:
    data = synthetic_sessions()
    columns = {"sessionId": data.session_ids, "activity": data.targets.astype(str)}
    columns.update({name: data.features[:, j] for j, name in enumerate(data.feature_names)})
    out = io.BytesIO()
    pacsv.write_csv(pa.table(columns), out)
    return out.getvalue()


def bench_memory() -> None:
    body = training_csv()
    print(f"\nmemory: motionlab serve, 1 worker (PSS over the process tree; CSV {len(body):,} B)")
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start_serve_process(Path(tmp) / "home", port, workers="1")
        try:
            time.sleep(SETTLE_S)
            report(f"{SETTLE_S} s after /readyz", server.pid, IDLE_TARGET_MIB, IDLE_BASELINE_MIB)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as api:
                response = api.post(
                    "/v1/sessions", content=body, headers={"Content-Type": "text/csv"}
                )
                assert response.status_code == 201, response.text[:300]
                report("after one bulk upload", server.pid, TRAINED_TARGET_MIB, "-")
                run_id = start_run(
                    api, prediction_window=20, max_iterations=5, split={"strategy": "none"}
                )
                run = wait_for(api, run_id, {"succeeded", "failed"}, timeout_s=900)
                assert run["status"] == "succeeded", run.get("error_message")
            time.sleep(1)  # the run's child has exited and the worker recorded it
            report("after a training run", server.pid, TRAINED_TARGET_MIB, TRAINED_BASELINE_MIB)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait()


if __name__ == "__main__":
    bench_memory()
