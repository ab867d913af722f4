"""Per-project limits a deployment sets (MOTIONLAB_PROJECT_MAX_STORED_BYTES,
MOTIONLAB_PROJECT_MAX_QUEUED_RUNS): checked inside the unit of work of the change, after its
rows are written, so that going over raises before the commit and nothing is stored."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Blob, MotionSession, Run, RunStatus
from core.projects import project_of
from service.errors import ServiceError


class QuotaExceeded(ServiceError):
    status_code, kind, title = 409, "quota-exceeded", "Project quota exceeded"


def stored_bytes(db: Session) -> int:
    """The bytes of the samples the project's sessions reference (a blob once however many
    sessions share it; a blob shared with another project counts in both)."""
    project = project_of(db)
    referenced = select(MotionSession.blob_sha256).where(MotionSession.project == project)
    total = db.scalar(
        select(func.coalesce(func.sum(Blob.segment_bytes), 0)).where(Blob.sha256.in_(referenced))
    )
    return int(total or 0)


def check_stored_bytes(db: Session, limit: int | None) -> None:
    if limit is None:
        return
    total = stored_bytes(db)
    if total > limit:
        raise QuotaExceeded(
            f"project {project_of(db)!r} would hold {total} bytes of samples with this upload, "
            f"over its limit of {limit} (MOTIONLAB_PROJECT_MAX_STORED_BYTES); nothing was "
            "stored. Delete sessions it no longer needs, or ask an admin to raise the limit",
            limit=limit,
        )


def check_queued_runs(db: Session, limit: int | None) -> None:
    if limit is None:
        return
    queued = db.scalar(
        select(func.count())
        .select_from(Run)
        .where(Run.project == project_of(db), Run.status == RunStatus.QUEUED)
    )
    if (queued or 0) > limit:
        raise QuotaExceeded(
            f"project {project_of(db)!r} would have {queued} queued runs, over its limit of "
            f"{limit} (MOTIONLAB_PROJECT_MAX_QUEUED_RUNS); nothing was queued. Wait for "
            "queued runs to start, or cancel some",
            limit=limit,
        )
