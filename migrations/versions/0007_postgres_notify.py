"""PostgreSQL: NOTIFY on queue and run changes; 64-bit pack sizes and offsets

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 09:40:00

PostgreSQL only; on SQLite this revision changes nothing (its INTEGER is already 64-bit, and
its workers and event streams poll).

Triggers, not NOTIFY statements in the code: every path that queues a run (a request, a sweep,
a stopping worker handing its run back, a reaper or a supervisor reclaiming one) and every
progress row a training process writes wakes the listeners, with no write path to forget.
NOTIFY is transactional: listeners hear of a change once it is committed, never before.

- motionlab_queue, payload the run's engine: a run became queued (inserted or re-queued).
- motionlab_run_events, payload the run id: a run's status, attempts or cancel request
  changed, or it has a new progress row (a heartbeat alone notifies no one).

core/notify.py names these channels; the two must agree.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

WIDENED = (("packs", "size_bytes"), ("blobs", "segment_offset"), ("blobs", "segment_bytes"))

TRIGGERS = """
CREATE FUNCTION motionlab_notify_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'queued' AND (TG_OP = 'INSERT' OR OLD.status <> 'queued') THEN
    PERFORM pg_notify('motionlab_queue', NEW.engine);
  END IF;
  IF TG_OP = 'INSERT' OR NEW.status <> OLD.status OR NEW.attempts <> OLD.attempts
     OR NEW.cancel_requested <> OLD.cancel_requested THEN
    PERFORM pg_notify('motionlab_run_events', NEW.id);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER runs_notify AFTER INSERT OR UPDATE ON runs
  FOR EACH ROW EXECUTE FUNCTION motionlab_notify_run();
CREATE FUNCTION motionlab_notify_progress() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('motionlab_run_events', NEW.run_id);
  RETURN NULL;
END $$;
CREATE TRIGGER run_progress_notify AFTER INSERT ON run_progress
  FOR EACH ROW EXECUTE FUNCTION motionlab_notify_progress();
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in WIDENED:
        op.alter_column(table, column, type_=sa.BigInteger(), existing_type=sa.Integer())
    op.execute(TRIGGERS)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER run_progress_notify ON run_progress")
    op.execute("DROP FUNCTION motionlab_notify_progress()")
    op.execute("DROP TRIGGER runs_notify ON runs")
    op.execute("DROP FUNCTION motionlab_notify_run()")
    for table, column in WIDENED:
        op.alter_column(table, column, type_=sa.Integer(), existing_type=sa.BigInteger())
