"""`motionlab serve | worker | migrate`."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from core.settings import get_settings


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )


def cmd_migrate(_args) -> None:
    from core.migrate import upgrade

    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    logging.getLogger("motionlab").info("migrated database=%s", settings.resolved_database_url)


def start_workers(settings, count: int, engines: list[str] | None = None) -> list:
    """Worker processes (spawned: no state shared with the API process)."""
    import multiprocessing

    from workers.worker import run_worker

    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(
            target=run_worker,
            args=(settings.model_dump_json(), engines, os.getpid()),
            name=f"motionlab-worker-{i}",
        )
        for i in range(count)
    ]
    for process in processes:
        process.start()
    return processes


def stop_workers(processes: list, timeout_s: float = 15.0) -> None:
    """SIGTERM: each worker hands its current run back to the queue, then exits."""
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout_s)
        if process.is_alive():
            process.kill()


def cmd_serve(args) -> None:
    import uvicorn

    from service.app import create_app

    settings = get_settings()
    # uvicorn re-raises the SIGTERM it handled once it has shut down; with this handler in
    # place that becomes SystemExit, so the `finally` below still stops the workers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    workers = start_workers(settings, settings.workers)
    try:
        uvicorn.run(
            create_app(settings),
            host=args.host or settings.host,
            port=args.port or settings.port,
            log_level=settings.log_level.lower(),
        )
    finally:
        stop_workers(workers)


def cmd_worker(args) -> None:
    from workers.worker import Worker

    worker = Worker(get_settings(), engines=args.engine or None)
    worker.install_signal_handlers()
    worker.work(burst=args.burst)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="motionlab", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=cmd_migrate)
    serve = commands.add_parser("serve", help="start the API (and embedded workers)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(run=cmd_serve)
    worker = commands.add_parser("worker", help="execute queued runs")
    worker.add_argument(
        "--engine", action="append", help="claim only runs of this engine (repeatable)"
    )
    worker.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    worker.set_defaults(run=cmd_worker)
    args = parser.parse_args(argv)
    configure_logging(get_settings().log_level)
    args.run(args)


if __name__ == "__main__":
    main()
