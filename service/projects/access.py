"""The project a request works in: resolved once by the guard from its path (the default
project without /v1/projects/{project}), then read by the routes' database sessions."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from core.models import DEFAULT_PROJECT
from core.projects import bind
from service.errors import NotFound

PROJECT_STATE = "project"  # the key of the request's state the guard sets


def unknown_project(name: str) -> NotFound:
    """The answer for a project that does not exist and for one the token does not cover:
    the same body, so that a token learns nothing of projects it may not use."""
    return NotFound(
        f"project {name!r} does not exist or this token may not use it; GET /v1/projects "
        "lists them (an admin of every project creates one: POST /v1/projects)"
    )


def request_project(connection: HTTPConnection) -> str:
    return connection.scope.get("state", {}).get(PROJECT_STATE, DEFAULT_PROJECT)


def project_url(project: str, path: str) -> str:
    """The URL of something in `project`: /v1/… for the default one."""
    return f"/v1/{path}" if project == DEFAULT_PROJECT else f"/v1/projects/{project}/{path}"


def project_sessions(connection: HTTPConnection) -> Callable[[], Session]:
    """Database sessions that stay in the request's project (core/projects.py)."""
    factory = connection.app.state.session_factory
    return partial(_bound, factory, request_project(connection))


def _bound(factory: Callable[[], Session], project: str) -> Session:
    return bind(factory(), project)
