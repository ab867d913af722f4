"""The first downloads of converted formats after a start, all at once (issue 26, defect 4).

Each conversion imports coremltools on first use; two threads importing it together saw each
other's half-initialised modules, and the first ONNX and ML Program downloads after every
start answered 500. A fresh server process is the only place that first import happens.
"""

from __future__ import annotations

import threading

import httpx

from core.run_artifacts import run_artifacts
from tests.support.servers import free_port, start_serve_process

CONVERTED = ("model.onnx", "model.mlpackage.zip", "model-float16.mlpackage.zip")


def test_the_first_onnx_and_ml_program_downloads_after_a_start_succeed_together(served):
    for run_id in (served.run_id, served.other_run_id):
        for name in CONVERTED:  # converted on the first download: make this one the first
            (run_artifacts(served.settings).directory(run_id) / name).unlink(missing_ok=True)
    database = (
        {"database_url": served.settings.database_url} if served.settings.database_url else {}
    )
    port = free_port()
    server = start_serve_process(served.settings.home, port, workers="0", **database)
    paths = [
        f"/v1/runs/{run_id}/{download}"
        for run_id in (served.run_id, served.other_run_id)
        for download in (
            "model.onnx",
            "model.mlpackage.zip",
            "model.mlpackage.zip?precision=float16",
        )
    ]
    statuses: dict[str, int] = {}
    start = threading.Barrier(len(paths))

    def download(path: str) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            start.wait()
            statuses[path] = client.get(path).status_code

    try:
        threads = [threading.Thread(target=download, args=(path,)) for path in paths]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.terminate()
        server.wait(30)
    assert statuses == dict.fromkeys(paths, 200)
