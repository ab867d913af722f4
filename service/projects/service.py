"""Creating, listing and deleting projects. Deleting one removes its sessions, runs, sweeps
and audit events, never another project's rows nor a blob another project references."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.blobs import release
from core.db import after_commit
from core.models import (
    DEFAULT_PROJECT,
    AuditEvent,
    MotionSession,
    Project,
    RegisteredModel,
    Run,
    RunSession,
    Sweep,
)
from core.projects import bind
from core.run_artifacts import RunArtifacts, run_artifacts
from core.runs import FINISHED
from core.settings import Settings
from core.storage import PackStore
from service.audit import service as audit
from service.errors import Conflict
from service.projects.access import unknown_project
from service.tokens import service as tokens


def list_projects(db: Session) -> list[Project]:
    return list(db.scalars(select(Project).order_by(Project.name)))


def create_project(db: Session, *, name: str) -> Project:
    """409 when it exists already."""
    project = Project(name=name)
    db.add(project)
    try:
        db.flush()
    except IntegrityError:
        raise Conflict(f"project {name!r} exists already; GET /v1/projects lists them") from None
    audit.record(db, action=audit.AuditAction.PROJECT_CREATE, target=f"projects/{name}")
    return project


def delete_project(db: Session, *, settings: Settings, store: PackStore, name: str) -> None:
    """409 while models are registered in it (versions are never deleted: apps fetch them) or
    runs are unfinished; else every row it owns goes, and the blobs no other project
    references with them."""
    if name == DEFAULT_PROJECT:
        raise Conflict("the default project cannot be deleted: /v1/… without a project is it")
    if db.get(Project, name) is None:
        raise unknown_project(name)
    bind(db, name)  # the rest of this unit of work acts inside the project
    models = list(db.scalars(select(RegisteredModel.name).order_by(RegisteredModel.name)))
    if models:
        raise Conflict(
            f"project {name!r} has registered models ({', '.join(models[:10])}): apps and CI "
            "fetch registered versions by URL, so a project holding any cannot be deleted"
        )
    unfinished = list(db.scalars(select(Run.id).where(Run.status.not_in(FINISHED))))
    if unfinished:
        raise Conflict(
            f"project {name!r} has {len(unfinished)} unfinished run(s) ({unfinished[0]} …): "
            f"cancel them first (POST /v1/projects/{name}/runs/{{run_id}}/cancel)"
        )
    run_ids = list(db.scalars(select(Run.id)))
    frozen = RunSession.run_id.in_(run_ids)
    hashes = list(db.scalars(select(MotionSession.blob_sha256).distinct()))
    hashes += db.scalars(select(RunSession.blob_sha256).where(frozen).distinct())
    db.execute(delete(RunSession).where(frozen))
    for statement in (delete(Run), delete(Sweep), delete(MotionSession), delete(AuditEvent)):
        db.execute(statement.execution_options(synchronize_session=False))  # progress cascades
    db.execute(delete(Project).where(Project.name == name))
    bind(db, DEFAULT_PROJECT)  # the event goes to the server's own trail
    audit.record(db, action=audit.AuditAction.PROJECT_DELETE, target=f"projects/{name}")
    tokens.forget_project(db, project=name)
    release(db, store=store, hashes=hashes)
    artifacts = run_artifacts(settings)
    after_commit(db, lambda: _delete_artifacts(artifacts, run_ids))


def _delete_artifacts(artifacts: RunArtifacts, run_ids: list[str]) -> None:
    for run_id in run_ids:
        artifacts.delete(run_id)
