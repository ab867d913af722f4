"""`motionlab serve | worker | migrate | token` (the operator's), and `upload | sessions |
train | runs | compare | pull | promote` (the user's, on the client:
client/motionlab_client/cli.py)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from core.settings import Settings, get_settings

# This module stays light: every run's child process imports it again (multiprocessing
# re-imports the main module of `motionlab serve` / `worker` in each child it starts), so what
# a command needs is imported by that command.


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    # The user commands' HTTP client logs every request at INFO: noise on a user's terminal.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Alembic says "Context impl SQLiteImpl" whenever a command checks the schema; `migrate`
    # turns it back on for the migrations it runs.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def migrate(settings: Settings) -> None:
    from core.migrate import redact, upgrade
    from core.store_migration import migrate_store

    settings.home.mkdir(parents=True, exist_ok=True)
    logging.getLogger("alembic").setLevel(logging.NOTSET)  # "Running upgrade 0006 -> 0007"
    upgrade(settings.resolved_database_url)
    migrate_store(settings)  # the store before packs: its Parquet files into packs
    logging.getLogger("motionlab").info(
        "migrated database=%s", redact(settings.resolved_database_url)
    )


def cmd_migrate(_args) -> None:
    migrate(get_settings())


def one_blas_thread() -> None:
    """NumPy's matrix products on one thread in `serve` (before NumPy loads; the environment
    can say otherwise). The API steps Turi Create models and live streams in NumPy, one request
    per core at a time (INFERENCE_SLOTS); OpenBLAS's own thread per core then only waits for
    the other requests' cores: on a busy 2-core host one window took 56 ms, 1.3 ms on one
    thread (issue #31). Its workers' training children set their own threads."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def cmd_serve(args) -> None:
    """The API and its embedded workers, supervised; refuses to start when it cannot work."""
    one_blas_thread()
    import uvicorn

    from service.app import create_app, server_options
    from service.preflight import (
        require_migrated,
        require_reachable_store,
        require_safe_address,
        require_usable_tls,
    )
    from service.serving import WS_PROTOCOL, announce, serve_one_process
    from workers.supervisor import WORKERS_STATUS_FILE, WorkerPool

    settings = get_settings()
    overrides = {
        "host": args.host,
        "port": args.port,
        "api_processes": args.api_processes,
        "tls_cert": args.tls_cert,
        "tls_key": args.tls_key,
    }
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v})
    if args.migrate:
        migrate(settings)
    require_migrated(settings)
    require_reachable_store(settings)
    require_safe_address(settings)
    require_usable_tls(settings)
    # uvicorn re-raises the SIGTERM it handled once it has shut down; with this handler in
    # place that becomes SystemExit, so the `finally` below still stops the workers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    processes = settings.api_processes
    status_file = settings.home / WORKERS_STATUS_FILE if processes > 1 else None
    workers = WorkerPool(settings, settings.workers, status_file=status_file).start()
    host, port, log_level = settings.host, settings.port, settings.log_level.lower()
    cert, key = settings.tls_cert, settings.tls_key  # None: plain HTTP
    try:
        if processes == 1:
            app = create_app(settings, workers=workers)
            serve_one_process(
                app,
                host=host,
                port=port,
                log_level=log_level,
                ssl_certfile=cert,
                ssl_keyfile=key,
                **server_options(settings),
            )
        else:  # uvicorn starts the processes; each makes its app from the environment
            announce(host, port, https=cert is not None)
            os.environ.update(MOTIONLAB_HOST=host, MOTIONLAB_PORT=str(port))
            factory = "service.app:create_api_process_app"
            uvicorn.run(
                factory,
                factory=True,
                workers=processes,
                host=host,
                port=port,
                log_level=log_level,
                ws=WS_PROTOCOL,
                ssl_certfile=cert,
                ssl_keyfile=key,
                **server_options(settings),
            )
    finally:
        workers.stop()


def cmd_worker(args) -> None:
    from service.preflight import require_migrated, require_reachable_store
    from workers.worker import Worker

    settings = get_settings()
    require_migrated(settings)
    require_reachable_store(settings)
    worker = Worker(settings, engines=args.engine or None)
    worker.install_signal_handlers()
    worker.work(burst=args.burst)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motionlab", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=cmd_migrate)
    serve = commands.add_parser("serve", help="start the API (and embedded workers)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--api-processes", type=int, help="API processes (default 1; MOTIONLAB_API_PROCESSES)"
    )
    serve.add_argument(
        "--tls-cert", help="serve HTTPS with this PEM certificate (MOTIONLAB_TLS_CERT)"
    )
    serve.add_argument("--tls-key", help="its PEM private key (MOTIONLAB_TLS_KEY)")
    serve.add_argument(
        "--migrate", action="store_true", help="apply database migrations first (else: refuse)"
    )
    serve.set_defaults(run=cmd_serve)
    worker = commands.add_parser("worker", help="execute queued runs")
    worker.add_argument(
        "--engine", action="append", help="claim only runs of this engine (repeatable)"
    )
    worker.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    worker.set_defaults(run=cmd_worker)
    from service.tokens.cli import add_token_commands

    add_token_commands(commands)
    # The user's commands (a client of a running server): upload, train, runs, pull, …
    from motionlab_client.cli import add_user_commands

    add_user_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    from motionlab_client.cli import attach_option_values

    args = parser.parse_args(attach_option_values(sys.argv[1:] if argv is None else argv))
    configure_logging(get_settings().log_level)
    args.run(args)


if __name__ == "__main__":
    main()
