"""The store's collector in `serve`: orphan packs and runs once at start-up, then every few
minutes; small packs merged into large ones every minute (core/compaction.py)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from core.blobs import collect_garbage
from core.compaction import COMPACT_INTERVAL_S, compact_packs
from core.run_artifacts import collect_orphan_runs, run_artifacts

log = logging.getLogger("motionlab.store")


class StoreCollector:
    """A daemon thread that runs `collect_garbage` now and every `interval_s`, and a pass of
    compaction at every wake-up (at least every COMPACT_INTERVAL_S)."""

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
        next_collection = 0.0
        while True:
            try:
                if time.monotonic() >= next_collection:
                    next_collection = time.monotonic() + self.interval_s
                    collect_garbage(self.factory, self.store, grace_period_s=self.grace_period_s)
                    collect_orphan_runs(
                        self.factory, self.artifacts, grace_period_s=self.grace_period_s
                    )
                compact_packs(self.factory, self.store)
            except Exception:  # the database is busy or gone: try again next time
                log.warning("store collection failed", exc_info=True)
            if self.stopping.wait(min(self.interval_s, COMPACT_INTERVAL_S)):
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
