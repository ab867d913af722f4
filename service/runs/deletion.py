"""Deleting a run: its rows, its files, and the data it pinned (unless something else does)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.blobs import release
from core.db import after_commit
from core.models import ModelVersion, Run, RunSession
from core.run_artifacts import run_artifacts
from core.runs import FINISHED
from core.settings import Settings
from core.storage import PackStore
from service.audit import service as audit
from service.errors import Conflict
from service.runs.service import get_run


def delete_run(db: Session, *, settings: Settings, store: PackStore, run_id: str) -> None:
    """Delete a finished run that no model version names; its files go after the commit,
    its frozen samples with it unless a session or another run references them."""
    run = get_run(db, run_id=run_id)
    if run.status not in FINISHED:
        raise Conflict(
            f"run {run_id} is {run.status}: cancel it first (POST /v1/runs/{run_id}/cancel), "
            "then delete it"
        )
    versions = db.execute(
        select(ModelVersion.model_name, ModelVersion.version).where(ModelVersion.run_id == run_id)
    ).all()
    if versions:
        named = ", ".join(f"{name} v{version}" for name, version in versions[:5])
        raise Conflict(
            f"run {run_id} is pinned by registered model version(s) {named}: a version keeps "
            "its run and its data. Register another run instead; this one cannot be deleted"
        )
    hashes = list(
        db.scalars(select(RunSession.blob_sha256).where(RunSession.run_id == run_id).distinct())
    )
    db.execute(delete(RunSession).where(RunSession.run_id == run_id))
    db.execute(delete(Run).where(Run.id == run_id))  # its progress rows cascade
    audit.record(db, action=audit.AuditAction.RUN_DELETE, target=f"runs/{run_id}")
    db.flush()
    release(db, store=store, hashes=hashes)
    after_commit(db, lambda: run_artifacts(settings).delete(run_id))
