"""`motionlab serve | worker | migrate`."""

from __future__ import annotations

import argparse
import logging

from service.settings import get_settings


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )


def cmd_migrate(_args) -> None:
    from service.migrate import upgrade

    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    logging.getLogger("motionlab").info("migrated database=%s", settings.resolved_database_url)


def cmd_serve(args) -> None:
    import uvicorn

    from service.app import create_app

    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level=settings.log_level.lower(),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="motionlab", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=cmd_migrate)
    serve = commands.add_parser("serve", help="start the API (and embedded workers)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(run=cmd_serve)
    args = parser.parse_args(argv)
    configure_logging(get_settings().log_level)
    args.run(args)


if __name__ == "__main__":
    main()
