"""sessions, runs, progress, registry

Revision ID: 0001
Revises:
Create Date: 2026-11-28 12:14:07.262503
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_models")),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("experiment", sa.String(length=256), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=True),
        sa.Column("engine", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("data_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("versions", sa.JSON(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("overfit", sa.JSON(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("claimed_by", sa.String(length=256), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_traceback", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'canceled')",
            name=op.f("ck_runs_status_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index("ix_runs_experiment", ["experiment"], unique=False)
        batch_op.create_index("ix_runs_status_created_at", ["status", "created_at"], unique=False)

    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("activity", sa.String(length=256), nullable=False),
        sa.Column("subject", sa.String(length=256), nullable=True),
        sa.Column("split", sa.String(length=8), nullable=True),
        sa.Column("sample_rate_hz", sa.Float(), nullable=True),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("has_timestamp", sa.Boolean(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("blob_sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=512), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "split IN ('train', 'valid', 'test')", name=op.f("ck_sessions_split_valid")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index("ix_sessions_activity", ["activity"], unique=False)
        batch_op.create_index("ix_sessions_blob_sha256", ["blob_sha256"], unique=False)
        batch_op.create_index("ix_sessions_subject", ["subject"], unique=False)

    op.create_table(
        "model_aliases",
        sa.Column("model_name", sa.String(length=128), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_name"],
            ["models.name"],
            name=op.f("fk_model_aliases_model_name_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_name", "alias", name=op.f("pk_model_aliases")),
    )
    op.create_table(
        "model_versions",
        sa.Column("model_name", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_name"],
            ["models.name"],
            name=op.f("fk_model_versions_model_name_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_model_versions_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("model_name", "version", name=op.f("pk_model_versions")),
    )
    op.create_table(
        "run_progress",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("iteration", sa.Integer(), nullable=False),
        sa.Column("train_accuracy", sa.Float(), nullable=True),
        sa.Column("validation_accuracy", sa.Float(), nullable=True),
        sa.Column("train_loss", sa.Float(), nullable=True),
        sa.Column("validation_loss", sa.Float(), nullable=True),
        sa.Column("elapsed_s", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_progress_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "iteration", name=op.f("pk_run_progress")),
    )
    op.create_table(
        "run_sessions",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=128), nullable=False),
        sa.Column("blob_sha256", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=256), nullable=False),
        sa.Column("subject", sa.String(length=256), nullable=True),
        sa.Column("part", sa.String(length=8), nullable=False),
        sa.CheckConstraint(
            "part IN ('train', 'valid', 'test')", name=op.f("ck_run_sessions_part_valid")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_sessions_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "position", name=op.f("pk_run_sessions")),
    )
    with op.batch_alter_table("run_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_run_sessions_blob_sha256", ["blob_sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("run_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_run_sessions_blob_sha256")

    op.drop_table("run_sessions")
    op.drop_table("run_progress")
    op.drop_table("model_versions")
    op.drop_table("model_aliases")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_subject")
        batch_op.drop_index("ix_sessions_blob_sha256")
        batch_op.drop_index("ix_sessions_activity")

    op.drop_table("sessions")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runs_status_created_at")
        batch_op.drop_index("ix_runs_experiment")

    op.drop_table("runs")
    op.drop_table("models")
