"""Project API schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

# Lower-case, so that a name is one path segment with one spelling.
PROJECT_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
PROJECT_NAME_HELP = "1-64 of a-z 0-9 _ -, starting with a letter or digit: gestures, fitness-app"


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., pattern=PROJECT_NAME_PATTERN, description=PROJECT_NAME_HELP)


class ProjectRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    created_at: datetime
