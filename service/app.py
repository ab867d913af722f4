"""create_app(): routers, the error handler, and the resources each request uses."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from sqlalchemy import text

from core.db import make_engine, make_session_factory
from core.settings import Settings, get_settings
from core.storage import BlobStore
from service import __version__
from service.errors import install_error_handlers
from service.observability import install_metrics
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
    install_metrics(app)
    app.include_router(sessions_router)
    app.include_router(runs_router)
    app.include_router(predictions_router)
    app.include_router(registry_router)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    def readyz() -> dict:
        """The database answers and its schema is migrated."""
        with engine.connect() as connection:
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return {"status": "ready", "schema_revision": revision}

    return app
