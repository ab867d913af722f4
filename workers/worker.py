"""The worker: claim a queued run → execute it in a child process → watch it → record the end.

Each run gets its own process, forked by the worker's fork server, which has imported torch and
the engines once: a run starts in milliseconds instead of a fresh interpreter's seconds. The
child is watched, not trusted: a heartbeat is kept while it lives; a cancel request, the
maximum run time or SIGTERM to the worker stops it; a crash (exit code, signal) still ends the
run as `failed`. A worker that dies itself is noticed by its peers through the stale heartbeat.
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
from multiprocessing import forkserver
from multiprocessing.context import ForkServerContext
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from core.db import make_engine, make_session_factory, unit_of_work
from core.models import Run, RunStatus
from core.notify import QUEUE_CHANNEL, listen
from core.run_artifacts import run_artifacts
from core.runs import claim_next_run, finish_run, hand_back_run, heartbeat, reap_stale_runs
from core.settings import Settings
from workers.engines.base import missing_model_files
from workers.engines.registry import get_engine
from workers.run_process import ERROR_FILE, EXIT_CANCELED, RESULT_FILE, die_with_parent, execute_run
from workers.summary import overfit_report, summarize

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event as EventType

log = logging.getLogger("motionlab.worker")
CHILD_STOP_GRACE_S = 5.0
# A run whose fork server died under it runs again this many times, then fails as it ended.
MAX_FORK_SERVER_RESTARTS_PER_RUN = 2
FORK_SERVER_EXIT_WAIT_S = 1.0
# What the fork server imports once, so that a run's child starts with them loaded. Imports
# only: a torch operation there could start OpenMP threads, which do not survive a fork.
PRELOADED_MODULES = [
    "workers.execute",
    "workers.engines.torch.engine",
    "workers.engines.torch.training",  # torch and its library (the adapter above loads them late)
    "workers.engines.torch.checkpoint",
    "workers.engines.turicreate.engine",
    "workers.engines.turicreate.runner_client",  # its data exchange and served model (NumPy)
    "workers.exports.coreml.export",  # coremltools: ~1 s to import, needed when each run ends
    "workers.exports.coreml.stream",  # a Turi Create run's metrics come from its export
]
# A run's child on PostgreSQL: the driver and its dialect (~0.2 s to import).
POSTGRES_MODULES = ["psycopg", "sqlalchemy.dialects.postgresql.psycopg"]


def fork_server_died(wait_s: float = FORK_SERVER_EXIT_WAIT_S) -> bool:
    """Whether the fork server this process started has exited (or does within `wait_s`: a
    run's process looks ended as soon as the dying server closes its files, a moment before
    the server is a zombie). Not reaped here: multiprocessing reaps it, and starts a new one,
    when it next forks and finds it dead."""
    pid = getattr(forkserver._forkserver, "_forkserver_pid", None)  # CPython's, one a process
    deadline = time.monotonic() + wait_s
    while pid is not None:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:  # reaped already
            return True
        if time.monotonic() >= deadline:
            break
        time.sleep(0.01)
    return False


def start_fork_server(database_url: str) -> ForkServerContext:
    """The context that forks run children; its server is started and warm when this returns.

    The server exits when this process does (even on SIGKILL), which kills its children: they
    asked for SIGKILL when their parent, the server, dies (die_with_parent).
    """
    started = time.monotonic()
    context = multiprocessing.get_context("forkserver")
    postgres = make_url(database_url).get_backend_name() == "postgresql"
    context.set_forkserver_preload(PRELOADED_MODULES + (POSTGRES_MODULES if postgres else []))
    # A child that does nothing: it can only be forked once the server has imported everything,
    # so no run pays for that, nor goes without heartbeats while waiting for it.
    warm_up = context.Process(target=os.getpid, name="motionlab-fork-server-warm-up")
    warm_up.start()
    warm_up.join()
    log.info("fork server ready seconds=%.2f", time.monotonic() - started)
    return context


class Worker:
    def __init__(self, settings: Settings, *, engines: list[str] | None = None):
        self.settings = settings
        self.engines = engines or [e for e in settings.worker_engines.split(",") if e] or None
        self.id = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 10_000}"
        self.factory = make_session_factory(make_engine(settings.resolved_database_url))
        self.artifacts = run_artifacts(settings)
        self.stopping = threading.Event()
        self.queue = listen(
            settings.resolved_database_url,
            QUEUE_CHANNEL,
            poll_interval_s=settings.poll_interval_s,
        )
        self.run_context: ForkServerContext | None = None  # started by work()

    def install_signal_handlers(self) -> None:
        def stop(signum, _frame):
            log.info("worker stopping worker=%s signal=%s", self.id, signum)
            self.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def stop(self) -> None:
        """Finish (or hand back) the current run, then return from work()."""
        self.stopping.set()
        self.queue.interrupt()

    def work(self, *, burst: bool = False, ready: EventType | None = None) -> int:
        """Execute runs until stopped (or, with burst, until the queue is empty); `ready` is
        set once the worker can claim a run (its fork server warm: seconds after its start)."""
        try:
            return self._work(burst=burst, ready=ready)
        finally:
            self.queue.close()

    def _work(self, *, burst: bool, ready: EventType | None) -> int:
        done, next_reap_at = 0, 0.0
        self.run_context = start_fork_server(self.settings.resolved_database_url)
        self.queue.wait(0)  # LISTEN before the first look at the queue: no run slips between
        log.info("worker started worker=%s engines=%s", self.id, self.engines or "all")
        if ready is not None:
            ready.set()
        while not self.stopping.is_set():
            # A run goes stale only after heartbeat_timeout_s: reaping at every idle poll, which
            # comes often so that runs start at once, would only cost queries.
            if time.monotonic() >= next_reap_at:
                with unit_of_work(self.factory) as db:
                    reap_stale_runs(
                        db,
                        timeout_s=self.settings.heartbeat_timeout_s,
                        max_attempts=self.settings.max_attempts,
                    )
                next_reap_at = time.monotonic() + self.settings.heartbeat_interval_s
            run_id = self._claim()
            if run_id is None:
                if burst:
                    break
                # Until a run is queued: NOTIFY wakes a PostgreSQL worker at once (the reaping
                # above is its safety poll); on SQLite this is one poll interval.
                self.queue.wait(max(0.0, next_reap_at - time.monotonic()))
                continue
            self.execute(run_id)
            done += 1
        return done

    def _claim(self) -> str | None:
        # Idle polls are frequent (a run should start at once); claim_next_run only reads
        # until a run is queued, so they never take SQLite's write lock.
        with unit_of_work(self.factory) as db:
            return claim_next_run(db, worker_id=self.id, engines=self.engines)

    def execute(self, run_id: str) -> None:
        log.info("run claimed run_id=%s worker=%s", run_id, self.id)
        if self.run_context is None:  # execute() called without work(), e.g. from a test
            self.run_context = start_fork_server(self.settings.resolved_database_url)
        for restart in range(MAX_FORK_SERVER_RESTARTS_PER_RUN + 1):
            exit_code, outcome = self._execute_child(run_id)
            # The run's process dies with its parent, the fork server (die_with_parent): the
            # run did nothing wrong, so it runs again, in the same attempt, from a new server.
            done = outcome is not None or exit_code == 0 or not fork_server_died()
            if done or restart == MAX_FORK_SERVER_RESTARTS_PER_RUN:
                break
            log.warning(
                "fork server died while running run_id=%s exit_code=%s; restarting it and the "
                "run (restart %d of %d)",
                run_id,
                exit_code,
                restart + 1,
                MAX_FORK_SERVER_RESTARTS_PER_RUN,
            )
            self.run_context = start_fork_server(self.settings.resolved_database_url)
        self._record(run_id, exit_code, outcome)

    def _execute_child(self, run_id: str) -> tuple[int | None, tuple[str, str | None] | None]:
        """Run the run in a child process and watch it: its exit code, and why it was stopped
        (None: it ended by itself)."""
        assert self.run_context is not None
        child = self.run_context.Process(
            target=execute_run,
            args=(run_id, self.settings.model_dump_json()),
            name=f"motionlab-run-{run_id}",
        )
        try:
            child.start()
        except (OSError, EOFError):  # the fork server went away while forking the child
            if not fork_server_died():
                raise
            return None, None
        started = time.monotonic()
        outcome: tuple[str, str | None] | None = None
        while child.is_alive():
            child.join(self.settings.heartbeat_interval_s)
            if not child.is_alive():
                break
            with unit_of_work(self.factory) as db:
                beat = heartbeat(db, run_id=run_id, worker_id=self.id)
            if not beat.still_ours:
                outcome = ("lost", None)
            elif beat.cancel_requested:
                outcome = ("canceled", None)
            elif time.monotonic() - started > self.settings.max_run_time_s:
                outcome = (
                    "failed",
                    f"the run exceeded the maximum run time of {self.settings.max_run_time_s:g}s",
                )
            elif self.stopping.is_set():
                outcome = ("handed back", None)
            if outcome:
                self._stop_child(child)
                break
        child.join()
        return child.exitcode, outcome

    @staticmethod
    def _stop_child(child) -> None:
        child.terminate()
        child.join(CHILD_STOP_GRACE_S)
        if child.is_alive():
            child.kill()
            child.join()

    def _record(self, run_id: str, exit_code: int | None, outcome) -> None:
        with unit_of_work(self.factory) as db:
            run = db.get_one(Run, run_id)
            # Reaped or reclaimed meanwhile (another worker may be running it in the same
            # directory): its files are no longer this execution's to read.
            ours = run.status == RunStatus.RUNNING and run.claimed_by == self.id
            if not ours:
                recorded, status = False, RunStatus(run.status)
            elif outcome and outcome[0] == "handed back":
                recorded = hand_back_run(db, run_id=run_id, worker_id=self.id)
                status = RunStatus.QUEUED
            else:
                status, values = self._outcome(run, exit_code, outcome)
                recorded = finish_run(db, run_id=run_id, worker_id=self.id, status=status, **values)
            if ours:  # (still running here: no other worker can be using the directory yet)
                self.artifacts.discard_scratch(run_id)
        if not recorded:
            log.warning("run no longer ours run_id=%s status=%s", run_id, status)
            return
        log.info("run finished run_id=%s status=%s exit_code=%s", run_id, status, exit_code)

    def _outcome(self, run: Run, exit_code: int | None, outcome) -> tuple[RunStatus, dict]:
        """The final status of an executed run and the columns to record with it."""
        run_dir = self.artifacts.scratch_dir(run.id)
        kind, message = outcome or (None, None)
        if kind == "canceled":
            return RunStatus.CANCELED, {"exit_code": exit_code}
        if kind == "failed":
            return RunStatus.FAILED, {"exit_code": exit_code, "error_message": message}
        result = _read_result(run_dir) if exit_code == 0 else None
        if result is not None:
            missing = missing_model_files(get_engine(run.engine), run_dir)
            if missing:
                message = f"the run finished without its model files: {'; '.join(missing)}"
                return RunStatus.FAILED, {"exit_code": exit_code, "error_message": message}
            summary = summarize(result["metrics"])
            return RunStatus.SUCCEEDED, {
                "exit_code": 0,
                "summary": summary,
                "versions": {**(run.versions or {}), **result["versions"]},
                "overfit": overfit_report(run.run_params, summary),
            }
        message, trace = _failure(run_dir, exit_code)
        return RunStatus.FAILED, {
            "exit_code": exit_code,
            "error_message": message,
            "error_traceback": trace,
        }


def _read_result(run_dir: Path) -> dict | None:
    try:
        return json.loads((run_dir / RESULT_FILE).read_text())
    except FileNotFoundError:
        return None


def _failure(run_dir: Path, exit_code: int | None) -> tuple[str, str | None]:
    error_file = run_dir / ERROR_FILE
    if error_file.exists():
        error = json.loads(error_file.read_text())
        return error["message"], error.get("traceback")
    if exit_code is not None and exit_code < 0:
        name = signal.Signals(-exit_code).name
        hint = " (out of memory?)" if -exit_code == signal.SIGKILL else ""
        return f"the training process was killed by signal {-exit_code} ({name}){hint}", None
    if exit_code == EXIT_CANCELED:
        return "the training process was stopped", None
    return f"the training process exited with code {exit_code} without a result", None


def run_worker(
    settings_json: str, engines: list[str] | None, parent_pid: int, ready: EventType | None = None
) -> None:
    """Entry point of a worker process embedded by `motionlab serve` (`ready`: see work)."""
    # However `serve` ends (even SIGKILL), its workers get SIGTERM and hand their runs back.
    die_with_parent(signal.SIGTERM)
    if os.getppid() != parent_pid:
        return  # `serve` ended before this process could ask to be told

    settings = Settings.model_validate_json(settings_json)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    worker = Worker(settings, engines=engines)
    worker.install_signal_handlers()
    worker.work(ready=ready)
