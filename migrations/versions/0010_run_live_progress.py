"""runs.live_progress: the epoch in progress (batches done of total, its loss so far), one value
per run overwritten while it trains; PostgreSQL notifies the run's event streams of each change

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:00:00

A column rather than rows of run_progress: a report every half second of a long run would
grow that table (the curves' history, one row per epoch) by thousands of rows a run, and every
reader of progress would have to skip them. The value is cleared by every status change.

PostgreSQL: migration 0007's trigger function, with live_progress among the changes that wake
a run's event streams (compared as text: json has no equality operator).
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

NOTIFY_RUN = """
CREATE OR REPLACE FUNCTION motionlab_notify_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'queued' AND (TG_OP = 'INSERT' OR OLD.status <> 'queued') THEN
    PERFORM pg_notify('motionlab_queue', NEW.engine);
  END IF;
  IF TG_OP = 'INSERT' OR NEW.status <> OLD.status OR NEW.attempts <> OLD.attempts
     OR NEW.cancel_requested <> OLD.cancel_requested{live} THEN
    PERFORM pg_notify('motionlab_run_events', NEW.id);
  END IF;
  RETURN NULL;
END $$;
"""
LIVE = "\n     OR NEW.live_progress::text IS DISTINCT FROM OLD.live_progress::text"


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("live_progress", sa.JSON(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(NOTIFY_RUN.format(live=LIVE))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(NOTIFY_RUN.format(live=""))
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("live_progress")
