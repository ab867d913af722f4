"""Session API schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.channels import layout_of
from service.sessions.parsing import (
    ID_REGEX,
    MAX_FEATURE_NAME_LENGTH,
    MAX_LABEL_LENGTH,
    MAX_SAMPLE_RATE_HZ,
    MIN_SAMPLE_RATE_HZ,
)

CSV_EXAMPLE = (
    "sessionId,activity,subject,timestamp,accelX,accelY,accelZ\n"
    "walk-001,walking,ana,0.00,0.12,-0.03,9.79\n"
    "walk-001,walking,ana,0.02,0.15,-0.01,9.83\n"
    "wave-001,waving,ana,0.00,1.02,0.40,9.61\n"
    "wave-001,waving,ana,0.02,1.35,0.52,9.55\n"
)


ColumnName = Annotated[str, Field(min_length=1, max_length=MAX_FEATURE_NAME_LENGTH)]


class SessionUpload(BaseModel):
    """One session of a JSON upload (documentation: the parser checks the body itself)."""

    id: str | None = Field(None, pattern=ID_REGEX, description="Default: ?session_id=")
    activity: str | None = Field(
        None, min_length=1, max_length=MAX_LABEL_LENGTH, description="Default: ?activity="
    )
    subject: str | None = Field(None, max_length=MAX_LABEL_LENGTH)
    split: Literal["train", "valid", "test"] | None = None
    sample_rate_hz: float | None = Field(None, ge=MIN_SAMPLE_RATE_HZ, le=MAX_SAMPLE_RATE_HZ)
    columns: list[ColumnName] = Field(
        ...,
        min_length=1,
        description="Column names: numeric features, and optionally `timestamp` (seconds)",
    )
    samples: list[list[float]] = Field(
        ..., min_length=1, description="One row per sample: a value for each column, in order"
    )
    channels: dict[str, str] | None = Field(
        None,
        description="What columns hold, where their names do not say it: {column: "
        '"sensor.axis:unit"}, e.g. {"accX": "accelerometer.x:m/s2", "gyrX": ":deg/s", '
        '"hr": "other:bpm"} (adds to ?channels=)',
        examples=[{"accX": "accelerometer.x:m/s2"}],
    )


class SessionsUpload(BaseModel):
    """A JSON upload: one or more sessions."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "sessions": [
                    {
                        "id": "walk-001",
                        "activity": "walking",
                        "subject": "ana",
                        "sample_rate_hz": 50,
                        "columns": ["accelX", "accelY", "accelZ"],
                        "samples": [[0.12, -0.03, 9.79], [0.15, -0.01, 9.83]],
                    }
                ]
            }
        }
    )

    sessions: list[SessionUpload] = Field(..., min_length=1)


class EdgeImpulseSensor(BaseModel):
    name: ColumnName
    units: str


class EdgeImpulsePayload(BaseModel):
    device_name: str | None = None
    device_type: str
    interval_ms: float = Field(..., gt=0, description="Milliseconds between samples")
    sensors: list[EdgeImpulseSensor] = Field(..., min_length=1)
    values: list[list[float]] = Field(..., min_length=1, description="One row per interval")


class EdgeImpulseFile(BaseModel):
    """Edge Impulse's data acquisition format (documentation: the parser checks the body)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "protected": {"ver": "v1", "alg": "none"},
                "signature": "0" * 64,
                "payload": {
                    "device_type": "IPHONE",
                    "interval_ms": 20,
                    "sensors": [{"name": "accX", "units": "m/s2"}],
                    "values": [[0.12], [0.15]],
                },
            }
        }
    )

    protected: dict[str, Any] = Field(..., description='{"ver": "v1", "alg": "HS256" | "none"}')
    signature: str = Field(..., description="HMAC-SHA256 of the file with 64 zeros here, hex")
    payload: EdgeImpulsePayload


# The request body of POST /v1/sessions, which the route reads itself (see its router).
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "Stacked CSV, a JSON document (ours, or an Edge Impulse data "
        "acquisition file: schema EdgeImpulseFile), Edge Impulse CBOR, a Sensor Logger zip, or "
        "multipart files; gzip welcome (Content-Encoding: gzip, or .gz files)",
        "content": {
            "text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE},
            # An Edge Impulse file (components: EdgeImpulseFile) is JSON too; it stays out of
            # this schema so that the fuzzer's uploads keep the stored data trainable.
            "application/json": {"schema": {"$ref": "#/components/schemas/SessionsUpload"}},
            "application/cbor": {
                "schema": {"type": "string", "format": "binary"},
                "description": "An Edge Impulse data acquisition file in CBOR",
            },
            "application/zip": {
                "schema": {"type": "string", "format": "binary"},
                "description": "A Sensor Logger zip export (one CSV per sensor)",
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": ".csv / .json / .cbor / .zip files (.gz: gzip); "
                            "a one-session file without an id is named after its file",
                        }
                    },
                    "required": ["files"],
                },
                "encoding": {"files": {"contentType": "text/csv, application/json"}},
            },
        },
    }
}


CHANNELS_ANSWERED = (
    'What each feature column holds, as declared: {column: "sensor.axis:unit"} (README: '
    "Channels and units)"
)


class SessionStored(BaseModel):
    """One entry of an upload's answer."""

    id: str
    rows: int
    features: list[str]
    channels: dict[str, str] = Field(description=CHANNELS_ANSWERED)
    sha256: str
    created: bool
    replaced: bool = False
    warnings: list[str] = Field(
        [], description="Units the values contradict, and other findings: the data is stored"
    )


class UploadResult(BaseModel):
    sessions: list[SessionStored]


class ChannelRead(BaseModel):
    """What one stored column holds."""

    column: str
    name: str = Field(description="Its canonical feature: what runs select and models take")
    sensor: str = Field(
        description="accelerometer (with gravity), user_acceleration, gravity, gyroscope, "
        "magnetometer, attitude or other"
    )
    axis: str | None = Field(description="x, y or z; none for other")
    unit: str = Field(description="Of the stored values (GET /v1/sessions/{id}/samples)")
    canonical_unit: str = Field(description="What a run trains on (?units=canonical)")
    scale: float = Field(description="canonical value = stored value × scale")


class SessionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    activity: str
    subject: str | None
    split: str | None
    sample_rate_hz: float | None
    features: list[str] = Field(description="The stored feature columns, as uploaded")
    channels: list[ChannelRead] = Field(description="What each feature column holds, in order")
    canonical_features: list[str] = Field(
        description="What a run can select from this session: its channels' canonical names, "
        "then those two channels give (accelX… from user acceleration and gravity)"
    )
    channel_levels: dict[str, float] | None = Field(
        None,
        description="Each checked sensor's level in its canonical unit (median magnitude; a "
        "gyroscope's 99th percentile): what the unit checks compare",
    )
    warnings: list[str] = Field(description="What the unit checks found")
    has_timestamp: bool
    row_count: int
    duration_s: float | None
    blob_sha256: str
    source: str | None
    created_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, row: Any) -> Any:
        """A stored session: its channels described from their stored form."""
        if isinstance(row, dict) or not hasattr(row, "channels"):
            return row
        layout = layout_of(row.channels)
        values = {name: getattr(row, name) for name in cls.model_fields if hasattr(row, name)}
        return {
            **values,
            "channels": [channel.describe() for channel in layout.channels],
            "canonical_features": list(layout.offered),
            "warnings": list(row.warnings or []),
        }


class SessionPage(BaseModel):
    items: list[SessionRead]
    total: int
    limit: int
    offset: int


class GroupStats(BaseModel):
    sessions: int
    rows: int
    seconds: float | None  # None when a session of the group has no known sample rate


class Stats(BaseModel):
    sessions: int
    rows: int
    seconds: float | None
    by_activity: dict[str, GroupStats]
    by_subject: dict[str, GroupStats]
    by_split: dict[str, GroupStats]
    by_channels: dict[str, GroupStats] = Field(
        description="Per set of canonical features a run can take from the sessions "
        "(canonical_features, comma-separated in the channel table's order)"
    )
    warnings: list[str]


class Labels(BaseModel):
    activities: list[str] = Field(description="Every stored session's activity, once, sorted")
    subjects: list[str] = Field(description="Every stored session's subject, once, sorted")
