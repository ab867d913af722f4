"""HTTP routes for projects (admin of every project): list, create, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from service.deps import BlobStoreDep, SessionDep, SettingsDep
from service.projects import service
from service.projects.schemas import PROJECT_NAME_PATTERN, ProjectCreate, ProjectRead

router = APIRouter(prefix="/v1", tags=["projects"])
ProjectName = Annotated[str, Path(max_length=64, pattern=PROJECT_NAME_PATTERN)]


@router.get("/projects", response_model=list[ProjectRead])
def list_projects(db: SessionDep) -> list[ProjectRead]:
    """Every project; `default` holds what /v1/… without a project addresses."""
    return [ProjectRead.model_validate(p) for p in service.list_projects(db)]


@router.post("/projects", status_code=201, response_model=ProjectRead, responses={409: {}})
def create_project(db: SessionDep, request: ProjectCreate) -> ProjectRead:
    """A new, empty project: its routes are /v1/projects/{name}/… (sessions, runs, models…)."""
    return ProjectRead.model_validate(service.create_project(db, name=request.name))


@router.delete("/projects/{project}", status_code=204, responses={404: {}, 409: {}})
def delete_project(
    db: SessionDep, settings: SettingsDep, store: BlobStoreDep, project: ProjectName
) -> Response:
    """Delete a project and everything in it; 409 while it has registered models or
    unfinished runs."""
    service.delete_project(db, settings=settings, store=store, name=project)
    return Response(status_code=204)
