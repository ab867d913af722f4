"""GET /metrics in the Prometheus text format: request counts and latencies, queue depth; and
tokens kept out of the server's log."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import defaultdict

from fastapi import FastAPI, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.db import unit_of_work
from core.models import MotionSession, Project, Run, RunStatus


class RequestMetrics:
    """Counts and total seconds per (method, route, status), shared by all requests."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count: dict[tuple[str, str, int], int] = defaultdict(int)
        self.seconds: dict[tuple[str, str, int], float] = defaultdict(float)

    def observe(self, key: tuple[str, str, int], elapsed_s: float) -> None:
        with self.lock:
            self.count[key] += 1
            self.seconds[key] += elapsed_s

    def lines(self) -> list[str]:
        out = [
            "# HELP motionlab_http_requests_total HTTP requests handled.",
            "# TYPE motionlab_http_requests_total counter",
        ]
        with self.lock:
            items = sorted(self.count.items())
            seconds = dict(self.seconds)
        for (method, route, status), count in items:
            out.append(
                f'motionlab_http_requests_total{{method="{method}",route="{route}",'
                f'status="{status}"}} {count}'
            )
        out += [
            "# HELP motionlab_http_request_seconds_total Time spent handling HTTP requests.",
            "# TYPE motionlab_http_request_seconds_total counter",
        ]
        for (method, route, status), _ in items:
            out.append(
                f'motionlab_http_request_seconds_total{{method="{method}",route="{route}",'
                f'status="{status}"}} {seconds[(method, route, status)]:.6f}'
            )
        return out


ROUTE_TEMPLATE_STATE = "route_template"


class MetricsMiddleware:
    """Times every HTTP request by its route template. Pure ASGI: a Starlette
    `BaseHTTPMiddleware` would cost a task and a stream per request (measured: predict 522 →
    736 requests/s without it)."""

    def __init__(self, app: ASGIApp, *, metrics: RequestMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception before the response starts is answered 500

        async def send_observing_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_observing_status)
        finally:
            # The template as the app has it (/v1/projects/{project}/sessions): set by the
            # guard, which matched it; a router's own route knows only its part (/sessions).
            path = scope.get("state", {}).get(ROUTE_TEMPLATE_STATE, "unmatched")
            key = (scope["method"], path, status)
            self.metrics.observe(key, time.perf_counter() - started)


def project_lines(db: Session) -> list[str]:
    """The gauges again with a `project` label (every project, the empty ones too)."""
    projects = list(db.scalars(select(Project.name).order_by(Project.name)))
    stored = {
        project: (count, rows)
        for project, count, rows in db.execute(
            select(
                MotionSession.project,
                func.count(),
                func.coalesce(func.sum(MotionSession.row_count), 0),
            ).group_by(MotionSession.project)
        )
    }
    runs = {
        (project, status): count
        for project, status, count in db.execute(
            select(Run.project, Run.status, func.count()).group_by(Run.project, Run.status)
        )
    }
    lines = [
        "# HELP motionlab_project_runs Runs by project and status.",
        "# TYPE motionlab_project_runs gauge",
    ]
    lines += [
        f'motionlab_project_runs{{project="{project}",status="{status}"}} '
        f"{runs.get((project, status), 0)}"
        for project in projects
        for status in RunStatus
    ]
    for name, index, help in (
        ("sessions", 0, "Stored motion sessions"),
        ("session_rows", 1, "Stored sample rows"),
    ):
        lines += [
            f"# HELP motionlab_project_{name} {help} by project.",
            f"# TYPE motionlab_project_{name} gauge",
        ]
        lines += [
            f'motionlab_project_{name}{{project="{project}"}} {stored.get(project, (0, 0))[index]}'
            for project in projects
        ]
    return lines


def install_metrics(app: FastAPI) -> None:
    metrics = RequestMetrics()
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    def prometheus_metrics() -> Response:
        """Prometheus metrics: HTTP requests, runs by status, stored sessions and rows, in all
        and per project."""
        with unit_of_work(app.state.session_factory) as db:
            runs = dict(db.execute(select(Run.status, func.count()).group_by(Run.status)).all())
            sessions, rows = db.execute(
                select(func.count(), func.coalesce(func.sum(MotionSession.row_count), 0))
            ).one()
            per_project = project_lines(db)
        lines = [
            *metrics.lines(),
            "# HELP motionlab_runs Runs by status.",
            "# TYPE motionlab_runs gauge",
        ]
        for status in RunStatus:
            lines.append(f'motionlab_runs{{status="{status}"}} {runs.get(status, 0)}')
        lines += [
            "# HELP motionlab_sessions Stored motion sessions.",
            "# TYPE motionlab_sessions gauge",
            f"motionlab_sessions {sessions}",
            "# HELP motionlab_session_rows Stored sample rows.",
            "# TYPE motionlab_session_rows gauge",
            f"motionlab_session_rows {rows}",
            *per_project,
        ]
        return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")


# A token sent as a query parameter (`?token=`, `?access_token=`): the API never reads one (a
# browser's WebSocket offers it as a subprotocol), but a client that tries must not leave it in
# the access log, whose lines name each request's path and query.
TOKEN_IN_QUERY = re.compile(r"([?&](?:access_)?token=)[^&\s\"]*", re.IGNORECASE)
ACCESS_LOGGERS = ("uvicorn.access", "uvicorn.error")  # uvicorn logs WebSocket handshakes as errors


class RedactTokens(logging.Filter):
    """Replaces the value of a token query parameter in a record's arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                TOKEN_IN_QUERY.sub(r"\1[redacted]", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


REDACT_TOKENS = RedactTokens()


def install_log_redaction() -> None:
    """Filter uvicorn's request lines (once per process: a filter is added only once)."""
    for name in ACCESS_LOGGERS:
        logging.getLogger(name).addFilter(REDACT_TOKENS)
