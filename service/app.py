"""create_app(): routers, the error handler, and the resources each request uses."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from core.db import API_POOL_SIZE, make_engine, make_session_factory
from core.settings import Settings, get_settings
from core.storage import pack_store
from service import __version__
from service.audit.router import router as audit_router
from service.auth import Authenticator
from service.dashboard.router import install_dashboard
from service.errors import install_error_handlers
from service.guard import install_guard
from service.health import WorkerStatus, install_health
from service.http import BodyLimit, request_limit
from service.live.protocol import OPENAPI_DESCRIPTION as LIVE_DESCRIPTION
from service.live.router import router as live_router
from service.observability import install_log_redaction, install_metrics
from service.openapi import install_openapi
from service.openapi_security import install_security_scheme
from service.predictions.router import router as predictions_router
from service.projects.router import router as projects_router
from service.projects.routes import PROJECTS_DESCRIPTION, include_project_routers
from service.registry.router import router as registry_router
from service.runs.event_hub import RunEventHub
from service.runs.router import router as runs_router
from service.sessions.router import router as sessions_router
from service.store_collector import collecting
from service.sweeps.router import router as sweeps_router
from service.tokens.router import router as tokens_router

log = logging.getLogger("motionlab")


def create_app(settings: Settings | None = None, *, workers: WorkerStatus | None = None) -> FastAPI:
    """The API; `workers`: the embedded workers whose liveness /readyz reports (serve)."""
    settings = settings or get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    app = FastAPI(
        title="motionlab",
        version=__version__,
        description="Train motion (activity / gesture) classifiers over HTTP; ship Core ML."
        + PROJECTS_DESCRIPTION
        + LIVE_DESCRIPTION,
        lifespan=_lifespan,
        docs_url=None,  # /docs and /redoc come from the dashboard, with their assets offline
        redoc_url=None,
    )
    engine = make_engine(settings.resolved_database_url, pool_size=API_POOL_SIZE)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.blob_store = pack_store(settings)
    app.state.run_events = RunEventHub(settings.resolved_database_url)
    install_error_handlers(app)
    # Inside the metrics middleware: the limit's 413 must reach FastAPI's body parsing as is.
    app.add_middleware(BodyLimit, default=request_limit(settings))
    install_metrics(app)
    install_log_redaction()
    project_routers = [sessions_router, runs_router, sweeps_router, predictions_router]
    project_routers += [registry_router, live_router, audit_router]
    include_project_routers(app, project_routers)
    app.include_router(tokens_router)
    app.include_router(projects_router)
    install_dashboard(app)
    install_health(app, engine, workers)
    install_openapi(app)
    install_security_scheme(app)  # after install_openapi: it wraps the document
    install_guard(app, Authenticator(settings, engine))  # last: the outermost middleware
    return app


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's settings for this app: the live streams' bounds where frames are read."""
    return {
        # A frame past twice the live frame limit closes the stream (1009) before it is read
        # whole; up to there, the stream reads it and answers with its own "error" message.
        "ws_max_size": 2 * settings.live_max_frame_bytes,
        # No permessage-deflate: a compressed frame inflates to ~1,000 times its size, and
        # every frame in one read of the socket is inflated before the stream sees the first.
        "ws_per_message_deflate": False,
        # No keepalive pings: a client sending faster than the model is held back by TCP, so
        # its pong waits behind its own frames and the ping would time out (1011). A client
        # that has gone sends nothing: MOTIONLAB_LIVE_IDLE_TIMEOUT_S closes its stream (4408).
        "ws_ping_interval": None,
        "ws_ping_timeout": None,
    }


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The blob store's collector (at start-up and periodically) runs while the server does;
    the run event streams' listener stops with it."""
    async with collecting(app):
        try:
            yield
        finally:
            app.state.run_events.close()


def create_api_process_app() -> FastAPI:
    """The app of one of `serve --api-processes N`'s processes (uvicorn's factory): settings
    from the environment, the embedded workers' liveness from the file their pool publishes."""
    from workers.supervisor import WORKERS_STATUS_FILE, PublishedPoolStatus

    settings = get_settings()
    workers = PublishedPoolStatus(settings.home / WORKERS_STATUS_FILE) if settings.workers else None
    return create_app(settings, workers=workers)
