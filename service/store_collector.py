"""The store's collector in `serve` (orphan packs and runs): once at start-up, then every few
minutes."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from core.blobs import collect_garbage
from core.run_artifacts import collect_orphan_runs, run_artifacts

log = logging.getLogger("motionlab.store")


class StoreCollector:
    """A daemon thread that runs `collect_garbage` now and every `interval_s`."""

    def __init__(self, app: FastAPI):
        settings = app.state.settings
        self.artifacts = run_artifacts(settings)
        self.factory = app.state.session_factory
        self.store = app.state.blob_store
        self.grace_period_s = settings.store_grace_period_s
        self.interval_s = settings.store_collect_interval_s
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="store-collector", daemon=True)

    def _loop(self) -> None:
        while True:
            try:
                collect_garbage(self.factory, self.store, grace_period_s=self.grace_period_s)
                collect_orphan_runs(
                    self.factory, self.artifacts, grace_period_s=self.grace_period_s
                )
            except Exception:  # the database is busy or gone: try again next time
                log.warning("store collection failed", exc_info=True)
            if self.stopping.wait(self.interval_s):
                return


@asynccontextmanager
async def collecting(app: FastAPI) -> AsyncIterator[None]:
    """The app's lifespan: the collector runs while the server does."""
    collector = StoreCollector(app)
    collector.thread.start()
    try:
        yield
    finally:
        collector.stopping.set()
