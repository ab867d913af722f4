"""A server with trained runs, shared read-only by the prediction, registry, live and contract
tests: one migrated home, one uvicorn server, BasicMotions uploaded, two small runs trained by
a real worker process (same data, different seeds), then a run left queued (no worker runs
after training). One per database, built when a test first asks for it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from core.settings import Settings
from tests.support.homes import FAST, migrated_settings
from tests.support.postgres import PostgresCluster
from tests.support.runs import running_workers, start_run, upload_basicmotions, wait_for
from tests.support.servers import LiveServer
from workers.engines.torch import ActivityClassifier

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


@contextlib.contextmanager
def serve(settings: Settings) -> Iterator[Served]:
    with LiveServer(settings) as live, httpx.Client(base_url=live.url, timeout=60) as api:
        upload_basicmotions(api)
        run_ids = [start_run(api, **RUN_BODY, random_seed=seed) for seed in (5, 6)]
        # One worker trains both (seconds each): a second worker's fork server (torch and
        # coremltools imported again) cost more than it saved, on 2 cores and under load.
        with running_workers(settings, 1):
            for run_id in run_ids:
                wait_for(api, run_id, {"succeeded"})
        queued = start_run(api, **RUN_BODY, random_seed=7)
        yield Served(settings, live.url, *run_ids, queued)


class ServedHomes:
    """The served home of each database, built on first use and kept for the test session:
    the SQLite one until `stack` closes, the PostgreSQL one until its cluster stops."""

    def __init__(self, root: Path, stack: contextlib.ExitStack):
        self._root, self._stack = root, stack
        self._homes: dict[str, Served] = {}
        self._failed: dict[str, BaseException] = {}  # built once: a failure is not retried

    def get(self, database: str, cluster: PostgresCluster | None) -> Served:
        if database in self._failed:
            raise RuntimeError(
                f"the served home on {database} failed to build (see its first test's error)"
            ) from self._failed[database]
        if database not in self._homes:
            stack, url = self._stack, None
            if cluster is not None:
                stack, url = cluster.resources, cluster.long_lived_database()
            home = self._root / database / "home"
            home.parent.mkdir(parents=True)
            settings = migrated_settings(home, url, workers=0, **FAST)
            try:
                self._homes[database] = stack.enter_context(serve(settings))
            except BaseException as error:
                self._failed[database] = error
                raise
        return self._homes[database]
