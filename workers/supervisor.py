"""Embedded workers, supervised: the processes `motionlab serve` runs beside the API.

A worker that dies (killed, out of memory, a crash) is noticed within a check interval; the
runs it had claimed are re-queued at once (core.runs.reclaim_runs_of_dead_worker: the
supervisor saw the process exit, so there is no heartbeat timeout to wait for, and no other
worker is needed to reap them), and a replacement is started after a back-off that grows while
workers keep dying young (a crash loop must not spin).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING

from core.atomic import write_bytes_atomic
from core.db import make_engine, make_session_factory, unit_of_work
from core.runs import reclaim_runs_of_dead_worker
from core.settings import Settings
from workers.run_process import training_threads
from workers.worker import run_worker

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event as EventType

log = logging.getLogger("motionlab.supervisor")
SPAWN = multiprocessing.get_context("spawn")  # workers share no state with the API process
CHECK_INTERVAL_S = 0.5
WORKERS_STATUS_FILE = "workers.json"  # in the home, with `serve --api-processes N`
RESTART_DELAY_S = 1.0
MAX_RESTART_DELAY_S = 60.0
HEALTHY_AFTER_S = 60.0  # a worker that lived this long resets the back-off


def worker_id_prefix(pid: int) -> str:
    """The start of the id a worker process gives itself (workers.worker.Worker.id)."""
    return f"{socket.gethostname()}:{pid}:"


def start_workers(
    settings: Settings, count: int, engines: list[str] | None = None
) -> list[BaseProcess]:
    """Worker processes (spawned: no state shared with the API process)."""
    return [start_worker(settings, engines, index) for index in range(count)]


def start_worker(
    settings: Settings, engines: list[str] | None, index: int, ready: EventType | None = None
) -> BaseProcess:
    """A worker process; `ready` is set once it can claim runs."""
    process = SPAWN.Process(
        target=run_worker,
        args=(settings.model_dump_json(), engines, os.getpid(), ready),
        name=f"motionlab-worker-{index}",
    )
    process.start()
    return process


def stop_workers(processes: list[BaseProcess], timeout_s: float = 15.0) -> None:
    """SIGTERM: each worker hands its current run back to the queue, then exits."""
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout_s)
        if process.is_alive():
            process.kill()
            process.join()


@dataclass
class Slot:
    """One place in the pool: its current process, or when its replacement starts."""

    index: int
    process: BaseProcess | None = None
    ready: EventType | None = None  # set by the process once it can claim runs
    started_at: float = 0.0
    restart_at: float | None = None
    young_deaths: int = 0
    restarts: int = 0


class PublishedPoolStatus:
    """A pool's status as an API process that is not its parent sees it: the pool's file, and
    which of the pids listed there are alive now."""

    def __init__(self, status_file: Path):
        self.status_file = status_file

    def status(self) -> dict[str, int]:
        try:
            document = json.loads(self.status_file.read_text())
        except (OSError, ValueError):
            return {"expected": 1, "alive": 0, "ready": 0, "restarts": 0}  # not started yet
        alive = sum(1 for pid in document["pids"] if _running(pid))
        ready = sum(1 for pid in document["ready_pids"] if _running(pid))
        return {
            "expected": document["expected"],
            "alive": alive,
            "ready": ready,
            "restarts": document["restarts"],
        }


def _running(pid: int) -> bool:
    """Alive, and not a zombie waiting for its parent to notice."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


class WorkerPool:
    """`count` worker processes kept alive by a supervising thread."""

    def __init__(
        self,
        settings: Settings,
        count: int,
        engines: list[str] | None = None,
        *,
        check_interval_s: float = CHECK_INTERVAL_S,
        restart_delay_s: float = RESTART_DELAY_S,
        status_file: Path | None = None,
    ):
        # Embedded in `motionlab serve`: the children share the host with the API.
        threads = training_threads(settings, shares_host_with_api=True)
        self.settings = settings.model_copy(update={"train_threads": threads})
        self.engines = engines
        self.check_interval_s = check_interval_s
        self.status_file = status_file  # for API processes that are not the pool's parent
        self.restart_delay_s = restart_delay_s
        self.slots = [Slot(index) for index in range(count)]
        self.factory = make_session_factory(make_engine(settings.resolved_database_url))
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(
            target=self._supervise, name="worker-supervisor", daemon=True
        )

    def start(self) -> WorkerPool:
        with self.lock:
            for slot in self.slots:
                self._start(slot)
        self.publish()
        if self.slots:
            self.thread.start()
        return self

    def stop(self, timeout_s: float = 15.0) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join()
        with self.lock:
            stop_workers([s.process for s in self.slots if s.process is not None], timeout_s)

    def status(self) -> dict[str, int]:
        """Workers expected, alive now, ready to claim runs now, and restarted since the start."""
        with self.lock:
            alive = [s for s in self.slots if s.process is not None and s.process.is_alive()]
            ready = sum(1 for s in alive if s.ready is not None and s.ready.is_set())
            restarts = sum(s.restarts for s in self.slots)
        return {
            "expected": len(self.slots),
            "alive": len(alive),
            "ready": ready,
            "restarts": restarts,
        }

    def pids(self, *, ready_only: bool = False) -> list[int]:
        with self.lock:
            return [
                s.process.pid
                for s in self.slots
                if s.process
                and s.process.pid
                and (not ready_only or (s.ready and s.ready.is_set()))
            ]

    def check(self) -> None:
        """One round: notice dead workers, reclaim their runs, start due replacements."""
        now = time.monotonic()
        with self.lock:
            for slot in self.slots:
                if self.stopping.is_set():
                    return
                if slot.process is not None and not slot.process.is_alive():
                    self._bury(slot, now)
                if slot.process is None and slot.restart_at is not None and now >= slot.restart_at:
                    self._start(slot)
                    slot.restarts += 1
        self.publish()

    def publish(self) -> None:
        """Write the pool's status and pids to `status_file` (`serve --api-processes N`)."""
        if self.status_file is not None:
            document = {
                **self.status(),
                "pids": self.pids(),
                "ready_pids": self.pids(ready_only=True),
            }
            write_bytes_atomic(self.status_file, json.dumps(document).encode())

    def _supervise(self) -> None:
        while not self.stopping.wait(self.check_interval_s):
            try:
                self.check()
            except Exception:  # the supervisor must outlive a database hiccup
                log.exception("worker supervision failed; retrying")

    def _start(self, slot: Slot) -> None:
        slot.ready = SPAWN.Event()
        slot.process = start_worker(self.settings, self.engines, slot.index, slot.ready)
        slot.started_at = time.monotonic()
        slot.restart_at = None

    def _bury(self, slot: Slot, now: float) -> None:
        process = slot.process
        assert process is not None and process.pid is not None
        process.join()
        why = _exit_reason(process.exitcode)
        with unit_of_work(self.factory) as db:
            reclaimed = reclaim_runs_of_dead_worker(
                db,
                worker_prefix=worker_id_prefix(process.pid),
                max_attempts=self.settings.max_attempts,
                why=why,
            )
        slot.young_deaths = slot.young_deaths + 1 if now - slot.started_at < HEALTHY_AFTER_S else 1
        delay = min(self.restart_delay_s * 2 ** (slot.young_deaths - 1), MAX_RESTART_DELAY_S)
        slot.process, slot.restart_at = None, now + delay
        log.error(
            "worker died worker_pid=%s %s; reclaimed runs=%s; restarting in %gs",
            process.pid,
            why,
            reclaimed or "none",
            delay,
        )


def _exit_reason(exit_code: int | None) -> str:
    if exit_code is not None and exit_code < 0:
        return f"was killed by signal {-exit_code} ({signal.Signals(-exit_code).name})"
    return f"exited with code {exit_code}"
