"""Every service test on both databases (`database_url`); a server with trained runs, shared by
the prediction and registry tests (trained once per database).

`served` is session-scoped and only built when a test asks for it: one migrated home, one
uvicorn server, BasicMotions uploaded, two small runs trained by real worker processes (same
data, different seeds), then a run left queued (no worker runs after training).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from core.settings import Settings
from tests.conftest import BASICMOTIONS_CSV, LiveServer, migrated_settings
from tests.postgres import DATABASES, long_lived_database, on_both_databases
from tests.service.runs.conftest import (
    FAST,
    running_workers,
    start_run,
    upload_basicmotions,
    wait_for,
)
from workers.engines.torch import ActivityClassifier

__all__ = ["on_both_databases"]  # `database_url`: every service test runs on both databases

FEATURES = ["accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ"]
RUN_BODY = {"prediction_window": 10, "max_iterations": 2, "split": {"strategy": "column"}}


@dataclass
class Served:
    settings: Settings
    url: str
    run_id: str  # succeeded, seed 5
    other_run_id: str  # succeeded, seed 6
    queued_run_id: str  # never claimed

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)

    def library_model(self, run_id: str | None = None) -> ActivityClassifier:
        """The run's checkpoint loaded by the library itself, the reference for predictions."""
        return ActivityClassifier.load(
            self.settings.runs_dir / (run_id or self.run_id) / "model.pt"
        )


@pytest.fixture(scope="session", params=DATABASES)
def served(request, tmp_path_factory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("served") / "home"
    with long_lived_database(request) as database_url:
        settings = migrated_settings(home, database_url, workers=0, **FAST)
        yield from _serve(settings)


def _serve(settings: Settings) -> Iterator[Served]:
    with LiveServer(settings) as live, httpx.Client(base_url=live.url, timeout=60) as api:
        upload_basicmotions(api)
        run_ids = [start_run(api, **RUN_BODY, random_seed=seed) for seed in (5, 6)]
        with running_workers(settings, 2):
            for run_id in run_ids:
                wait_for(api, run_id, {"succeeded"})
        queued = start_run(api, **RUN_BODY, random_seed=7)
        yield Served(settings, live.url, *run_ids, queued)


@pytest.fixture
def served_api(served: Served) -> Iterator[httpx.Client]:
    with served.client() as client:
        yield client


def basicmotions_rows(session_ids: list[str]) -> pa.Table:
    """Rows of the bundled BasicMotions sessions, in file order."""
    table = pacsv.read_csv(BASICMOTIONS_CSV)
    mask = np.isin(table.column("sessionId").to_numpy(zero_copy_only=False), session_ids)
    return table.filter(pa.array(mask))


def csv_bytes(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pacsv.write_csv(table, out)
    return out.getvalue()


def library_columns(table: pa.Table, session_column: str | None = "sessionId") -> dict:
    """The table as the library's columns mapping (one session when there is no id column)."""
    ids = (
        table.column(session_column).to_numpy(zero_copy_only=False)
        if session_column
        else np.zeros(table.num_rows, dtype=np.int64)
    )
    return {"session_id": ids, **{f: table.column(f).to_numpy() for f in FEATURES}}
