"""Annotated dependency aliases, defined once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from core.db import unit_of_work
from core.settings import Settings
from core.storage import BlobStore


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_db(request: Request) -> Iterator[Session]:
    """One unit of work per request: committed when the route returns, rolled back on error."""
    with unit_of_work(request.app.state.session_factory) as session:
        yield session


def get_blob_store(request: Request) -> BlobStore:
    return request.app.state.blob_store


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_db, scope="function")]
BlobStoreDep = Annotated[BlobStore, Depends(get_blob_store)]
