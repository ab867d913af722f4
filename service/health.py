"""GET /healthz (the process is up) and GET /readyz (it can do its work: 503 otherwise)."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from fastapi import FastAPI, Request
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from core.migrate import head_revision
from service.errors import ServiceUnavailable, problem_response

log = logging.getLogger("motionlab")
NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "Not ready: the database does not answer or is not migrated, or an "
        "embedded worker is not alive or cannot claim runs yet (the body lists the problems)"
    }
}


class WorkerStatus(Protocol):
    def status(self) -> dict[str, int]: ...


def readiness(engine: Engine, head: str, workers: WorkerStatus | None) -> dict[str, Any]:
    """What /readyz answers: `problems` is empty when ready."""
    problems: list[str] = []
    revision = None
    try:
        with engine.connect() as connection:
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as error:
        problems.append(f"the database does not answer or has no schema ({type(error).__name__})")
    if revision is not None and revision != head:
        problems.append(
            f"the database is at revision {revision}, this code needs {head}: run "
            "`motionlab migrate`"
        )
    report: dict[str, Any] = {"schema_revision": revision}
    if workers is not None:
        report["workers"] = status = workers.status()
        if status["alive"] < status["expected"]:
            problems.append(
                f"{status['expected'] - status['alive']} of {status['expected']} embedded "
                "workers are not alive (the supervisor is restarting them)"
            )
        elif status.get("ready", status["alive"]) < status["expected"]:
            problems.append(
                f"{status['expected'] - status['ready']} of {status['expected']} embedded "
                "workers are starting: not yet able to claim runs"
            )
    return {"problems": problems, **report}


def install_health(app: FastAPI, engine: Engine, workers: WorkerStatus | None) -> None:
    head = head_revision()
    logged: list[list[str]] = [[]]  # the problems last logged: a poller logs each change once

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses=NOT_READY)
    def readyz(request: Request) -> Any:
        """The database answers at the schema revision this code needs, and every embedded
        worker is alive and able to claim runs."""
        report = readiness(engine, head, workers)
        problems = report.pop("problems")
        if problems != logged[0]:
            if problems:
                log.warning("not ready problems=%s", problems)
            else:
                log.info("ready")
            logged[0] = problems
        if problems:
            return problem_response(
                request,
                503,
                ServiceUnavailable.kind,
                ServiceUnavailable.title,
                "; ".join(problems),
                problems=problems,
                **report,
            )
        return {"status": "ready", **report}
