"""The child process that executes one run (forked by the worker's fork server, which has
imported this module: the worker itself only names its entry point, workers/run_process.py).

It loads the run's frozen data, trains with the run's engine in the run's scratch directory,
stores each iteration as it happens, publishes the run's files to the store, and leaves
`result.json` (success) or `error.json` (failure) in the scratch directory.
The worker, not this process, moves the run to its final status.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import sys
import time
import traceback
from pathlib import Path

from sqlalchemy import delete

from core.atomic import write_bytes_atomic
from core.db import make_engine, make_session_factory, unit_of_work
from core.models import Run, RunProgress
from core.run_artifacts import METRICS_FILE, run_artifacts
from core.runs import record_live_progress
from core.settings import Settings
from core.storage import PackStore, pack_store
from workers.engines.base import RunContext
from workers.engines.registry import get_engine
from workers.run_data import load_run_parts
from workers.run_process import (
    ERROR_FILE,
    EXIT_CANCELED,
    RESULT_FILE,
    die_with_parent,
    training_threads,
)

log = logging.getLogger("motionlab.execute")


class Canceled(Exception):
    pass


def _limit_threads(settings: Settings) -> None:
    import torch

    torch.set_num_threads(training_threads(settings, shares_host_with_api=False))


def _figure(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def write_json(path: Path, document: dict) -> None:
    write_bytes_atomic(path, json.dumps(document, indent=2, default=str).encode())


def execute(run_id: str, settings_json: str) -> None:
    """What the child process runs (run_process.execute_run)."""
    # The parent is the fork server, which exits when the worker dies, even by SIGKILL.
    die_with_parent()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(EXIT_CANCELED))
    settings = Settings.model_validate_json(settings_json)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s %(message)s"
    )
    artifacts = run_artifacts(settings)
    run_dir = artifacts.scratch_dir(run_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    for stale in (RESULT_FILE, ERROR_FILE):
        (run_dir / stale).unlink(missing_ok=True)
    _limit_threads(settings)
    factory = make_session_factory(make_engine(settings.resolved_database_url))
    try:
        result = _execute(run_id, run_dir, factory, pack_store(settings))
        # In the store before the result exists: a run succeeds only with its files there.
        artifacts.publish(run_id)
        write_json(run_dir / RESULT_FILE, result)
    except Canceled:
        sys.exit(EXIT_CANCELED)
    except BaseException as exc:
        if isinstance(exc, SystemExit) and exc.code == EXIT_CANCELED:
            raise
        write_json(
            run_dir / ERROR_FILE,
            {"message": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()},
        )
        log.exception("run failed run_id=%s", run_id)
        sys.exit(1)


def _execute(run_id: str, run_dir: Path, factory, store: PackStore) -> dict:
    started = time.perf_counter()

    def preparing(db, sessions: int, rows: int) -> None:
        """How far the run's data has loaded: its sign of life long before training starts."""
        progress = {
            "phase": "preparing",
            "sessions_loaded": sessions,
            "sessions_total": sessions_total,
            "rows_loaded": rows,
            "elapsed_s": time.perf_counter() - started,
        }
        record_live_progress(db, run_id=run_id, progress=progress)

    with unit_of_work(factory) as db:
        run = db.get_one(Run, run_id)
        params, engine_name = run.run_params, run.engine  # parsed once, here
        sessions_total = sum(run.sessions_per_part.values())
        db.execute(delete(RunProgress).where(RunProgress.run_id == run_id))  # earlier attempt
        preparing(db, 0, 0)  # within the claim's first second, whatever the run's size
    (run_dir / f"attempt-{os.getpid()}.started").touch()

    def on_loaded(sessions: int, rows: int) -> None:
        with unit_of_work(factory) as db:
            preparing(db, sessions, rows)

    with unit_of_work(factory) as db:  # reads only: no transaction is held while training
        parts = load_run_parts(
            db, store, run_id, features=params.features, target=params.target, on_loaded=on_loaded
        )
    log.info("run started run_id=%s engine=%s parts=%s", run_id, engine_name, sorted(parts))

    def on_iteration(report: dict) -> None:
        with unit_of_work(factory) as db:
            db.merge(RunProgress(run_id=run_id, **report))
        figures = " ".join(f"{k}={_figure(v)}" for k, v in report.items())
        log.info("iteration run_id=%s %s", run_id, figures)

    def on_batch(progress: dict) -> None:
        with unit_of_work(factory) as db:
            record_live_progress(db, run_id=run_id, progress={"phase": "training", **progress})

    # multiprocessing's handle on the worker that started this process (not the fork server):
    # a pipe only the worker holds open, so neither a reused pid nor a zombie can look alive.
    worker = multiprocessing.parent_process()

    def should_stop() -> bool:
        if worker is not None and not worker.is_alive():
            raise Canceled()  # the worker is gone: stop, the run will be reclaimed
        return False

    context = RunContext(run_id, params, parts, run_dir, on_iteration, should_stop, on_batch)
    engine = get_engine(engine_name)
    result = engine.run(context)
    # The model files are part of the run: a download only serves them (and a model that
    # cannot be exported fails the run, with the reason, instead of its first download).
    engine.export_coreml(run_dir, params, run_id=run_id)
    engine.native_file(run_dir)
    write_json(run_dir / METRICS_FILE, result.metrics)
    return {"metrics": result.metrics, "versions": result.versions, "artifacts": result.artifacts}
