"""All ORM tables. The schema itself is created only by Alembic migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.params import RunParams

# Named constraints so Alembic batch mode (SQLite) can alter them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SPLITS = ("train", "valid", "test")
# The project that holds everything written before projects, and what a URL without one means.
DEFAULT_PROJECT = "default"
PROJECT_NAME_LENGTH = 64
# Byte sizes and offsets: 64-bit (SQLite's INTEGER already is; PostgreSQL's is 32-bit).
BYTES = Integer().with_variant(BigInteger(), "postgresql")


class RunStatus(StrEnum):
    """Where a run is in its life; core/runs.py holds the edges between them."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend: SQLite stores them naive, so values are
    converted to UTC on the way in and marked UTC on the way out. (A TypeDecorator, because a
    dialect replaces a plain DateTime subclass with its own type and the override is lost.)"""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return value.astimezone(UTC) if value is not None and value.tzinfo else value

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Project(Base):
    """A namespace of sessions, runs, sweeps, models and the audit trail (core/projects.py).
    Blobs and packs stay shared by content: a blob goes when no project references it."""

    __tablename__ = "projects"

    name: Mapped[str] = mapped_column(String(PROJECT_NAME_LENGTH), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def project_column(*, primary_key: bool = False) -> Mapped[str]:
    """The owning project; a row added without one (a worker, the CLI) is the default's."""
    return mapped_column(
        String(PROJECT_NAME_LENGTH), primary_key=primary_key, default=DEFAULT_PROJECT
    )


class Pack(Base):
    """One file of the blob store, written once: a record batch per session. An upload writes
    one; compaction (core/compaction.py) merges small ones into one."""

    __tablename__ = "packs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(BYTES)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when compaction moved every blob out of it: its file stays for the store's grace
    # period, for readers that looked up a blob's place before the move.
    retired_at: Mapped[datetime | None]


class Blob(Base):
    """A session's samples by content address (sha256), and where they lie: (pack, batch).

    Sessions and runs reference blobs by foreign key, so the database itself refuses to delete a
    referenced blob, and refuses a row that names a blob deleted meanwhile. `pack_id` is NULL
    only for samples that were already missing when a store was migrated to packs.
    """

    __tablename__ = "blobs"
    __table_args__ = (Index("ix_blobs_pack_id", "pack_id"),)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    pack_id: Mapped[str | None] = mapped_column(ForeignKey("packs.id"))
    segment_offset: Mapped[int | None] = mapped_column(BYTES)  # an Arrow IPC file in the pack
    segment_bytes: Mapped[int | None] = mapped_column(BYTES)
    batch: Mapped[int | None] = mapped_column(Integer)  # the record batch in that segment
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MotionSession(Base):
    """One recorded session: its labels in the row, its samples in a content-addressed blob."""

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint("split IN ('train', 'valid', 'test')", name="split_valid"),
        Index("ix_sessions_activity", "activity"),
        Index("ix_sessions_subject", "subject"),
        Index("ix_sessions_blob_sha256", "blob_sha256"),
    )

    project: Mapped[str] = project_column(primary_key=True)
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    activity: Mapped[str] = mapped_column(String(256))
    subject: Mapped[str | None] = mapped_column(String(256))
    split: Mapped[str | None] = mapped_column(String(8))
    sample_rate_hz: Mapped[float | None] = mapped_column(Float)
    features: Mapped[list[Any]] = mapped_column(JSON)
    # What each feature column holds: [column, sensor, axis, unit] (core/channels.py).
    channels: Mapped[list[Any]] = mapped_column(JSON)
    # {sensor: level in its canonical unit} (core/unit_checks.py); None: not checked yet.
    channel_levels: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    # What the unit checks found (a wrong unit is never silent); None when nothing.
    warnings: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))
    has_timestamp: Mapped[bool]
    row_count: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    source: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Run(Base):
    """A training run; the table is also the queue (a worker claims with one UPDATE)."""

    __tablename__ = "runs"
    __table_args__ = (
        CheckConstraint(
            f"status IN ({', '.join(repr(str(status)) for status in RunStatus)})",
            name="status_valid",
        ),
        Index("ix_runs_status_created_at", "status", "created_at"),
        Index("ix_runs_experiment", "experiment"),
        Index("ix_runs_sweep_id", "sweep_id"),
        Index("ix_runs_project", "project"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project: Mapped[str] = project_column()
    experiment: Mapped[str] = mapped_column(String(256), default="default")
    name: Mapped[str | None] = mapped_column(String(256))
    engine: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.QUEUED)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    data_fingerprint: Mapped[str] = mapped_column(String(64))
    versions: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    overfit: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # What the run request was warned about when it was created (data it trains anyway).
    warnings: Mapped[list[Any] | None] = mapped_column(JSON)
    # {"train": n, "valid": n, "test": n}: counted once when the run is frozen, read often
    sessions_per_part: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    claimed_by: Mapped[str | None] = mapped_column(String(256))
    heartbeat_at: Mapped[datetime | None]
    # The epoch in progress while the run trains ({"iteration", "batches_done",
    # "batches_total", "train_loss", "elapsed_s"}), overwritten about twice a second by the
    # training process and cleared by every status change: one value per run, not a row per
    # report (run_progress keeps one row per finished epoch, the curves' history).
    live_progress: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str | None] = mapped_column(Text)
    error_traceback: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # The sweep that created this run (one run per grid combination); None for a plain run.
    sweep_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("sweeps.id"))

    @cached_property
    def run_params(self) -> RunParams:
        """The frozen parameters, typed (the column holds their JSON); parsed once per object:
        a run's parameters never change after it is created."""
        return RunParams.model_validate(self.params)

    @property
    def recipe(self) -> str:
        return self.run_params.recipe


class Sweep(Base):
    """A grid of run fields: one run per combination, all in one experiment."""

    __tablename__ = "sweeps"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project: Mapped[str] = project_column()
    experiment: Mapped[str] = mapped_column(String(256))
    # The run request every combination starts from, and the grid {field: [values]}.
    base: Mapped[dict[str, Any]] = mapped_column(JSON)
    grid: Mapped[dict[str, Any]] = mapped_column(JSON)
    metric: Mapped[str] = mapped_column(String(64))  # a validation summary metric
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RunSession(Base):
    """The frozen, ordered data selection of a run: which session, which blob, which part."""

    __tablename__ = "run_sessions"
    __table_args__ = (
        CheckConstraint("part IN ('train', 'valid', 'test')", name="part_valid"),
        Index("ix_run_sessions_blob_sha256", "blob_sha256"),
    )

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128))
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))  # pinned till deleted
    # Where each of the run's features comes from in this blob: [[column, scale], …] per
    # feature (core/channels.py Source), frozen with the run; None: each feature is its own
    # column, unscaled (every run before channels).
    sources: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))
    label: Mapped[str] = mapped_column(String(256))
    subject: Mapped[str | None] = mapped_column(String(256))
    part: Mapped[str] = mapped_column(String(8))


class RunProgress(Base):
    """One training iteration of a run, stored as it happens."""

    __tablename__ = "run_progress"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    iteration: Mapped[int] = mapped_column(Integer, primary_key=True)
    train_accuracy: Mapped[float | None] = mapped_column(Float)
    validation_accuracy: Mapped[float | None] = mapped_column(Float)
    train_loss: Mapped[float | None] = mapped_column(Float)
    validation_loss: Mapped[float | None] = mapped_column(Float)
    elapsed_s: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RegisteredModel(Base):
    __tablename__ = "models"

    project: Mapped[str] = project_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelVersion(Base):
    __tablename__ = "model_versions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["project", "model_name"], ["models.project", "models.name"], ondelete="CASCADE"
        ),
    )

    project: Mapped[str] = project_column(primary_key=True)
    model_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(256))  # who registered it (a token)


class ModelAlias(Base):
    __tablename__ = "model_aliases"
    __table_args__ = (
        ForeignKeyConstraint(
            ["project", "model_name"], ["models.project", "models.name"], ondelete="CASCADE"
        ),
    )

    project: Mapped[str] = project_column(primary_key=True)
    model_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(256))  # who last moved it (a token)


class ApiToken(Base):
    """A bearer token: only its sha256 is stored; the token itself is shown once, at creation."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_token_sha256", "token_sha256", unique=True),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # public: list, revoke
    name: Mapped[str] = mapped_column(String(128))
    scopes: Mapped[list[Any]] = mapped_column(JSON)
    token_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(256))
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(256))
    expires_at: Mapped[datetime | None]  # None: until revoked (the QR code's tokens expire)
    # The projects the token may use; None: every project (every token before projects).
    projects: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))


class AuditEvent(Base):
    """Who changed what, and when: registry changes, deletes, token changes. Append-only."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_target", "target"),
        Index("ix_audit_events_project", "project"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project: Mapped[str] = project_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(256))  # a token's name, `local` or `cli`
    token_id: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))  # e.g. alias.set, session.delete
    target: Mapped[str] = mapped_column(String(512))  # e.g. models/GestureClassifier
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
