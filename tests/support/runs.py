"""Runs over HTTP: sessions to train on, real worker processes, starting a run and waiting for
it."""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np

from core.settings import Settings
from tests.support.paths import BASICMOTIONS_CSV
from workers.supervisor import start_workers, stop_workers

# A short, real training run on BasicMotions.
SHORT_RUN = {
    "prediction_window": 10,
    "max_iterations": 3,
    "random_seed": 1,
    "split": {"strategy": "column"},
}


@contextmanager
def running_workers(settings: Settings, count: int = 1, **overrides):
    processes = start_workers(settings.model_copy(update=overrides), count)
    try:
        yield processes
    finally:
        stop_workers(processes)


def upload_basicmotions(api) -> None:
    response = api.post(
        "/v1/sessions?sample_rate_hz=10",
        content=BASICMOTIONS_CSV.read_bytes(),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code in (200, 201), response.text


def upload_tiny(
    api, sessions: int = 6, rows: int = 20, classes=("a", "b"), seed: int = 0, replace=False
):
    """Small labelled sessions with a learnable signal (class index shifts the mean)."""
    rng = np.random.default_rng(seed)
    body = []
    for i in range(sessions):
        label = classes[i % len(classes)]
        shift = classes.index(label)
        values = rng.normal(shift * 3, 1, size=(rows, 2))
        split = "test" if i >= sessions - len(classes) else "train"
        body.append(
            {
                "id": f"t{i:03d}",
                "activity": label,
                "subject": f"p{i % 3}",
                "split": split,
                "columns": ["x", "y"],
                "samples": values.tolist(),
            }
        )
    response = api.post("/v1/sessions", params={"replace": replace}, json={"sessions": body})
    assert response.status_code in (200, 201), response.text


def upload_named_features(api, first_feature: str) -> None:
    """Four tiny two-class training sessions whose first feature column is `first_feature`
    (a name some export cannot take)."""
    sessions = [
        {
            "id": f"c{i}",
            "activity": "ab"[i % 2],
            "split": "train",
            "columns": [first_feature, "y"],
            "samples": [[3.0 * (i % 2) + 0.1 * j, 1.0] for j in range(10)],
        }
        for i in range(4)
    ]
    assert api.post("/v1/sessions", json={"sessions": sessions}).status_code in (200, 201)


def start_run(api, **body) -> str:
    response = api.post("/v1/runs", json=body)
    assert response.status_code == 202, response.text
    # The run's URL in the project it was started in (/v1/runs/… for the default one).
    location = f"{response.request.url.path}/{response.json()['id']}"
    assert response.headers["Location"] == location, response.headers
    return response.json()["id"]


def wait_for(api, run_id: str, statuses, timeout_s: float = 300, check=None) -> dict:
    """Poll the run until its status is one of `statuses` (and `check(run)` holds). The
    default allows for worker processes that start slowly: two of them took 2.5 minutes to
    claim their runs (importing torch) on the 2-core machine at a load of 19."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run = api.get(f"/v1/runs/{run_id}").json()
        if run["status"] in statuses and (check is None or check(run)):
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not reach {statuses}: {run}")


# Long enough (seconds, on a quiet machine) that a test can act on it while it trains.
LONG_RUN_ITERATIONS = 100


def long_run(api) -> str:
    upload_tiny(api, sessions=8, rows=400)
    return start_run(api, prediction_window=2, max_iterations=LONG_RUN_ITERATIONS, random_seed=1)


def wait_for_progress(api, run_id: str) -> dict:
    return wait_for(
        api, run_id, {"running"}, check=lambda r: api.get(f"/v1/runs/{run_id}/progress").json()
    )
