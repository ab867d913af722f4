"""The routes of a project: the same routers twice, under /v1 (the default project: every URL
from before projects, which CI and apps fetch) and under /v1/projects/{project}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path

from service.auth import PROJECT_PREFIX
from service.projects.schemas import PROJECT_NAME_HELP, PROJECT_NAME_PATTERN

PROJECTS_DESCRIPTION = """

**Projects.** Every route of sessions, runs, sweeps, predictions, models, live streams and
the audit log below addresses the `default` project; the same route under
`/v1/projects/{project}/…` (e.g. `GET /v1/projects/fitness/models/Squats/production/model.mlmodel`)
addresses another project, created with `POST /v1/projects`. A token limited to projects gets
404 for any other project, the same answer as for a project that does not exist."""


def project_path(
    project: Annotated[
        str, Path(max_length=64, pattern=PROJECT_NAME_PATTERN, description=PROJECT_NAME_HELP)
    ],
) -> str:
    """The path's project, as the OpenAPI document names it; the guard has already resolved
    it (service.projects.access.request_project) and answered 404 for one it does not know."""
    return project


def include_project_routers(app: FastAPI, routers: list[APIRouter]) -> None:
    """Each router under /v1, then under /v1/projects/{project}; the second copies are left
    out of the OpenAPI document, whose description says that every project route exists
    under that prefix too (its operations would otherwise be listed twice)."""
    for router in routers:
        app.include_router(router, prefix="/v1")
    for router in routers:
        app.include_router(
            router,
            prefix=PROJECT_PREFIX,
            dependencies=[Depends(project_path)],
            include_in_schema=False,
        )
