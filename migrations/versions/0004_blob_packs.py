"""blob packs: packs and blobs tables; sessions and runs reference their blobs by foreign key

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 07:15:00

Schema only, plus a `blobs` row (not yet packed: pack_id NULL) for every blob a session or a run
references. `motionlab migrate` then moves the Parquet files of such blobs into packs
(core/store_migration.py); a blob whose file was already gone stays NULL: "lost".
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

REFERENCING = ("sessions", "run_sessions")


def upgrade() -> None:
    op.create_table(
        "packs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packs")),
    )
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("pack_id", sa.String(length=32), nullable=True),
        sa.Column("segment_offset", sa.Integer(), nullable=True),
        sa.Column("segment_bytes", sa.Integer(), nullable=True),
        sa.Column("batch", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pack_id"], ["packs.id"], name=op.f("fk_blobs_pack_id_packs")),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_blobs")),
    )
    with op.batch_alter_table("blobs", schema=None) as batch_op:
        batch_op.create_index("ix_blobs_pack_id", ["pack_id"], unique=False)
    op.execute(
        "INSERT INTO blobs (sha256, created_at) "
        "SELECT blob_sha256, CURRENT_TIMESTAMP FROM sessions "
        "UNION SELECT blob_sha256, CURRENT_TIMESTAMP FROM run_sessions"
    )
    for table in REFERENCING:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(
                op.f(f"fk_{table}_blob_sha256_blobs"), "blobs", ["blob_sha256"], ["sha256"]
            )


def downgrade() -> None:
    # The packs' files stay on disk; 0003's code reads per-session Parquet files only.
    for table in REFERENCING:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"fk_{table}_blob_sha256_blobs"), type_="foreignkey")
    with op.batch_alter_table("blobs", schema=None) as batch_op:
        batch_op.drop_index("ix_blobs_pack_id")
    op.drop_table("blobs")
    op.drop_table("packs")
