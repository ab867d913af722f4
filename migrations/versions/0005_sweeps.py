"""sweeps: a grid of run fields, one run per combination (runs.sweep_id)

Runs stored before recipes keep params without a `recipe` key; RunParams reads them as the
turicreate recipe, which is what trained them, so no data migration is needed.

Revision ID: 0005
Revises: 0004 (re-linked after 0004 when the branches merge)
Create Date: 2026-11-30 07:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sweeps",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("experiment", sa.String(length=256), nullable=False),
        sa.Column("base", sa.JSON(), nullable=False),
        sa.Column("grid", sa.JSON(), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sweeps")),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sweep_id", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_runs_sweep_id", ["sweep_id"], unique=False)
        batch_op.create_foreign_key(op.f("fk_runs_sweep_id_sweeps"), "sweeps", ["sweep_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_runs_sweep_id_sweeps"), type_="foreignkey")
        batch_op.drop_index("ix_runs_sweep_id")
        batch_op.drop_column("sweep_id")
    op.drop_table("sweeps")
