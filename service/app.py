"""create_app(): routers, the error handler, and the resources each request uses."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.db import make_engine, make_session_factory
from core.settings import Settings, get_settings
from core.storage import BlobStore
from service import __version__
from service.errors import ServiceUnavailable, install_error_handlers
from service.http import BodyLimit, request_limit
from service.observability import install_metrics
from service.openapi import install_openapi
from service.predictions.router import router as predictions_router
from service.registry.router import router as registry_router
from service.runs.router import router as runs_router
from service.sessions.router import router as sessions_router

log = logging.getLogger("motionlab")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    app = FastAPI(
        title="motionlab",
        version=__version__,
        description="Train motion (activity / gesture) classifiers over HTTP; ship Core ML.",
    )
    engine = make_engine(settings.resolved_database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.blob_store = BlobStore(settings.blobs_dir)
    install_error_handlers(app)
    # Inside the metrics middleware: the limit's 413 must reach FastAPI's body parsing as is.
    app.add_middleware(BodyLimit, default=request_limit(settings))
    install_metrics(app)
    app.include_router(sessions_router)
    app.include_router(runs_router)
    app.include_router(predictions_router)
    app.include_router(registry_router)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict:
        """The process is up."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        responses={503: {"description": "The database does not answer or is not migrated"}},
    )
    def readyz() -> dict:
        """The database answers and its schema is migrated."""
        try:
            with engine.connect() as connection:
                query = text("SELECT version_num FROM alembic_version")
                revision = connection.execute(query).scalar()
        except SQLAlchemyError as exc:
            log.warning("not ready error=%s", exc)
            raise ServiceUnavailable(
                "the database does not answer or is not migrated: run `motionlab migrate`"
            ) from None
        return {"status": "ready", "schema_revision": revision}

    install_openapi(app)
    return app
