"""runs.sessions_per_part: a run's session count per part, stored once instead of recounted
by every read of the run, every item of a runs list and every poll of its event stream

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 07:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sessions_per_part", sa.JSON(), nullable=False, server_default="{}")
        )
    # Existing runs: counted from their frozen sessions, once.
    runs = sa.table("runs", sa.column("id", sa.String), sa.column("sessions_per_part", sa.JSON))
    run_sessions = sa.table("run_sessions", sa.column("run_id"), sa.column("part"))
    connection = op.get_bind()
    counts: dict[str, dict[str, int]] = {}
    for run_id, part, count in connection.execute(
        sa.select(run_sessions.c.run_id, run_sessions.c.part, sa.func.count()).group_by(
            run_sessions.c.run_id, run_sessions.c.part
        )
    ):
        counts.setdefault(run_id, {})[part] = count
    for run_id, per_part in counts.items():
        connection.execute(
            runs.update().where(runs.c.id == run_id).values(sessions_per_part=per_part)
        )


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("sessions_per_part")
