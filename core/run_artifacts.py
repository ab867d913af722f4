"""A run's files in the store: published by the worker that trained it, read by the API.

A worker trains in a scratch directory under its own home (`runs/<run id>/`) and, before the
run can succeed, publishes every file there to the store under the same key
(`runs/<run id>/<path>`), each atomically: the model files, metrics, checkpoints and whatever
an engine adds, with no list to keep up to date. Only the worker's hand-over files (result /
error, attempt markers) and unfinished temporary files stay behind.

With the store in the home (the default) the scratch directory *is* the stored run: nothing
is copied, and the API reads the files where the worker wrote them. On a shared volume the
API reads them there too. From S3 it keeps a read-through copy under its own home
(`cache/runs/<run id>/`): a succeeded run's files never change, so the copy never goes stale.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db import unit_of_work
from core.models import Run
from core.object_store import ObjectStore, open_object_store

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger("motionlab.store")
RUNS = "runs"
METRICS_FILE = "metrics.json"
HAND_OVER_FILES = frozenset({"result.json", "error.json"})  # worker ↔ its child, never served
COMPLETE_MARK = ".complete"  # in a cached run directory: every stored file is in it


def published(relative_path: str) -> bool:
    name = relative_path.rsplit("/", 1)[-1]
    return not (name.startswith(".") or name in HAND_OVER_FILES or name.endswith(".started"))


class RunArtifacts:
    def __init__(self, objects: ObjectStore, home: Path):
        self.objects = objects
        self.scratch_root = home / RUNS
        self.cache_root = home / "cache" / RUNS
        stored = objects.local_path(RUNS)
        # The store's runs folder on this host (the home, or a shared volume); None on S3.
        self.stored_root = Path(stored) if stored is not None else None
        self.in_place = stored is not None and os.path.realpath(stored) == os.path.realpath(
            self.scratch_root
        )

    def scratch_dir(self, run_id: str) -> Path:
        """Where a worker on this host trains the run."""
        return self.scratch_root / run_id

    def publish(self, run_id: str) -> int:
        """Store the files of the run's scratch directory; how many were copied."""
        if self.in_place:
            return 0
        scratch, copied = self.scratch_dir(run_id), 0
        for folder, _, names in os.walk(scratch):
            for name in names:
                relative = os.path.relpath(os.path.join(folder, name), scratch).replace(os.sep, "/")
                if published(relative):
                    self.objects.put_file(f"{RUNS}/{run_id}/{relative}", os.path.join(folder, name))
                    copied += 1
        return copied

    def discard_scratch(self, run_id: str) -> None:
        """Remove the scratch directory once the run is recorded (unless it is the store)."""
        if not self.in_place:
            shutil.rmtree(self.scratch_dir(run_id), ignore_errors=True)

    def file(self, run_id: str, name: str) -> Path:
        """One stored file of a succeeded run, on this host; FileNotFoundError if none."""
        if self.stored_root is not None:
            path = self.stored_root / run_id / name
            if not path.is_file():
                raise FileNotFoundError(path)
            return path
        path = self.cache_root / run_id / name
        if not path.is_file():
            self.objects.download(f"{RUNS}/{run_id}/{name}", path)
        return path

    def directory(self, run_id: str) -> Path:
        """A directory on this host with every stored file of a succeeded run (for engines
        that load a model from its run directory)."""
        if self.stored_root is not None:
            return self.stored_root / run_id
        directory = self.cache_root / run_id
        if not (directory / COMPLETE_MARK).exists():
            prefix = f"{RUNS}/{run_id}/"
            for stored in self.objects.list_objects(prefix):
                target = directory / stored.key.removeprefix(prefix)
                if not target.is_file():
                    self.objects.download(stored.key, target)
            (directory / COMPLETE_MARK).parent.mkdir(parents=True, exist_ok=True)
            (directory / COMPLETE_MARK).touch()
        return directory

    def delete(self, run_id: str) -> None:
        """Delete the stored run, this host's copy and its scratch directory."""
        self.objects.delete_prefix(f"{RUNS}/{run_id}")
        shutil.rmtree(self.cache_root / run_id, ignore_errors=True)
        self.discard_scratch(run_id)


def collect_orphan_runs(
    factory: sessionmaker[Session], artifacts: RunArtifacts, *, grace_period_s: float
) -> int:
    """Delete stored runs that no run row names (a deletion whose file removal failed after
    its commit) once their newest file is older than `grace_period_s`; how many. A run's row
    exists before any of its files, so a live run is never taken."""
    newest: dict[str, float] = {}
    for stored in artifacts.objects.list_objects(RUNS):
        run_id = stored.key.split("/")[1]
        newest[run_id] = max(newest.get(run_id, 0.0), stored.modified_at)
    cutoff = time.time() - grace_period_s
    old = [run_id for run_id, modified_at in newest.items() if modified_at <= cutoff]
    live: set[str] = set()
    with unit_of_work(factory) as db:
        for start in range(0, len(old), 500):
            live.update(db.scalars(select(Run.id).where(Run.id.in_(old[start : start + 500]))))
    orphans = [run_id for run_id in old if run_id not in live]
    for run_id in orphans:
        artifacts.delete(run_id)
    if orphans:
        log.info("store collected runs=%d", len(orphans))
    return len(orphans)


def run_artifacts(settings: Settings) -> RunArtifacts:
    """The run files of `settings`' store, with this host's home for scratch and cache."""
    return _run_artifacts(open_object_store(settings), str(settings.home))


@functools.lru_cache(maxsize=64)
def _run_artifacts(objects: ObjectStore, home: str) -> RunArtifacts:
    return RunArtifacts(objects, Path(home))
