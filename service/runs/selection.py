"""A run's data: which stored sessions, and what to warn about (its features: features.py).

The rules, so that later uploads can never change what a run trains on without a word:
- `data.sessions` names stored sessions; an id that is not stored is a 422.
- A `prediction_window` longer than every selected session is a 422; sessions shorter than
  it, and sessions of different sample rates, are warnings stored on the run.
"""

from __future__ import annotations

import json
from collections import namedtuple
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Text, cast, select
from sqlalchemy.orm import Session

from core.models import MotionSession
from core.params import DataSelection
from core.projects import project_of
from service.errors import InvalidInput
from service.sessions.service import quoted

# A stored session's columns as a plain tuple: runs select up to tens of thousands of sessions,
# and an ORM object each cost more than the rest of creating the run.
_TABLE = MotionSession.__table__
_SessionTuple = namedtuple("_SessionTuple", [column.key for column in _TABLE.columns])  # type: ignore[misc]
SessionRow = Any  # a _SessionTuple: the columns by name (row.id, row.channels, …)
# The JSON columns come as text, each distinct text decoded once (`_decoded`): sessions
# uploaded together repeat theirs, and 10,000 sessions' 40,000 json.loads were half of a run's
# creation. Rows share what they decoded alike: read them, never change them.
_COLUMNS = [
    cast(column, Text).label(column.key) if isinstance(column.type, JSON) else column
    for column in _TABLE.columns
]
_JSON_FIELDS = [i for i, column in enumerate(_TABLE.columns) if isinstance(column.type, JSON)]


def _decoded(rows: Sequence[Sequence[Any]]) -> list[SessionRow]:
    """SessionRows of rows of _COLUMNS, each JSON text decoded once for all of them."""
    texts: dict[str, Any] = {}
    result = []
    for row in rows:
        values = list(row)
        for i in _JSON_FIELDS:
            text = values[i]
            if text is not None:
                if text not in texts:
                    texts[text] = json.loads(text)
                values[i] = texts[text]
        result.append(_SessionTuple._make(values))
    return result


def select_sessions(db: Session, *, selection: DataSelection) -> list[SessionRow]:
    """The stored sessions a data selection names, in order; 422 when none or unknown ids."""
    # Core (plain rows), which the project's loader criteria do not reach: filtered here.
    query = select(*_COLUMNS).where(MotionSession.project == project_of(db))
    for column, values in (
        (MotionSession.activity, selection.activities),
        (MotionSession.subject, selection.subjects),
        (MotionSession.split, selection.splits),
    ):
        if values is not None:
            query = query.where(column.in_(values))
    if selection.sessions is not None:
        wanted = list(dict.fromkeys(selection.sessions))
        stored = set(db.scalars(select(MotionSession.id).where(MotionSession.id.in_(wanted))))
        unknown = [sid for sid in wanted if sid not in stored]
        if unknown:
            raise InvalidInput(
                f"unknown session id(s) in data.sessions: {quoted(unknown)} (not stored); "
                "GET /v1/sessions lists them",
                session=unknown[0],
            )
        matching = _decoded(db.execute(query.where(MotionSession.id.in_(wanted))).all())
        by_id = {s.id: s for s in matching}
        found = [by_id[sid] for sid in wanted if sid in by_id]
    else:
        found = _decoded(db.execute(query.order_by(MotionSession.id)).all())
    if not found:
        raise InvalidInput(
            "no session matches the data selection; GET /v1/sessions shows what is stored"
        )
    return found


def check_window(sessions: Sequence[SessionRow], prediction_window: int) -> list[str]:
    """422 when no session fills one window; a warning when some sessions are shorter."""
    longest = max(s.row_count for s in sessions)
    if prediction_window > longest:
        raise InvalidInput(
            f"prediction_window {prediction_window} is longer than every selected session "
            f"(the longest has {longest} rows): no window would be complete. Use a "
            f"prediction_window of at most {longest}, or record longer sessions"
        )
    short = [s for s in sessions if s.row_count < prediction_window]
    if not short:
        return []
    return [
        f"{len(short)} of {len(sessions)} sessions are shorter than prediction_window "
        f"{prediction_window} ({quoted((f'{s.id}: {s.row_count} rows' for s in short), 3)}): "
        "each gives one incomplete window"
    ]
