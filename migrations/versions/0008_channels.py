"""channels: what each feature column of a session holds (sensor, axis, unit), its unit-check
levels and warnings; where each feature of a run comes from in its pinned blobs

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 17:00:00

Every stored session gets its channels inferred from its column names (core/channel_names.py),
with what the formats stored before this revision meant by them where the names alone would
mislead: Sensor Logger's accelX…Z were its Accelerometer.csv, user acceleration in m/s², and
Edge Impulse files report acceleration in m/s². Levels and warnings need the samples: the data
step of `motionlab migrate` computes them (core/channel_migration.py). Run sessions frozen
before this revision read each feature from its own column, unscaled (sources NULL), as always.
"""

import sqlalchemy as sa
from alembic import op

from core.channel_names import channels_for, infer_channel
from core.channels import SENSORS, Sensor
from core.units import Quantity

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SENSOR_LOGGER_BEFORE_0008 = {
    **{f"accel{axis}": f"user_acceleration.{axis.lower()}:m/s2" for axis in "XYZ"},
    **{f"rot{axis}": f"gyroscope.{axis.lower()}:rad/s" for axis in "XYZ"},
}
BATCH = 1000


def stored_channels(features: list[str], source: str | None) -> list[list]:
    """The channels of a session stored before this revision."""
    source = source or ""
    declared, units = {}, {}
    if source.startswith("sensor-logger"):
        declared = {c: d for c, d in SENSOR_LOGGER_BEFORE_0008.items() if c in features}
    elif source.startswith("edge-impulse"):
        units = {
            column: "m/s2"
            for column in features
            if infer_channel(column).sensor is not Sensor.OTHER
            and SENSORS[infer_channel(column).sensor].quantity is Quantity.ACCELERATION
        }
    channels = channels_for(features, declared=declared, units=units, strict=False)
    return [channel.stored() for channel in channels]


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channels", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("channel_levels", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("warnings", sa.JSON(), nullable=True))
    with op.batch_alter_table("run_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sources", sa.JSON(), nullable=True))
    sessions = sa.table(
        "sessions",
        sa.column("id", sa.String),
        sa.column("features", sa.JSON),
        sa.column("source", sa.String),
        sa.column("channels", sa.JSON),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(sessions.c.id, sessions.c.features, sessions.c.source).order_by(sessions.c.id)
    ).all()
    update = (
        sessions.update()
        .where(sessions.c.id == sa.bindparam("session_id"))
        .values(channels=sa.bindparam("stored"))
    )
    for start in range(0, len(rows), BATCH):
        connection.execute(
            update,
            [
                {"session_id": session_id, "stored": stored_channels(features, source)}
                for session_id, features, source in rows[start : start + BATCH]
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("run_sessions", schema=None) as batch_op:
        batch_op.drop_column("sources")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("warnings")
        batch_op.drop_column("channel_levels")
        batch_op.drop_column("channels")
