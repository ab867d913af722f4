"""A run's data: which stored sessions, which feature columns, and what to warn about.

The rules, so that later uploads can never change what a run trains on without a word:
- `data.sessions` names stored sessions; an id that is not stored is a 422.
- Without `features`, a run uses the feature columns of its sessions, which must all have
  the same ones (in any order; the first session's order is used). Sessions that disagree are
  a 422 naming them: give `features` to choose the columns to use.
- A `prediction_window` longer than every selected session is a 422; sessions shorter than
  it, and sessions of different sample rates, are warnings stored on the run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from core.models import MotionSession
from core.params import DataSelection
from service.errors import InvalidInput
from service.sessions.service import quoted

# A stored session's columns as a plain row: runs select up to tens of thousands of sessions,
# and an ORM object each cost more than the rest of creating the run.
SessionRow = Row[Any]


def select_sessions(db: Session, *, selection: DataSelection) -> list[SessionRow]:
    """The stored sessions a data selection names, in order; 422 when none or unknown ids."""
    query = select(MotionSession.__table__)
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
        by_id = {s.id: s for s in db.execute(query.where(MotionSession.id.in_(wanted)))}
        found = [by_id[sid] for sid in wanted if sid in by_id]
    else:
        found = list(db.execute(query.order_by(MotionSession.id)))
    if not found:
        raise InvalidInput(
            "no session matches the data selection; GET /v1/sessions shows what is stored"
        )
    return found


def resolve_features(sessions: Sequence[SessionRow], requested: list[str] | None) -> list[str]:
    """The run's feature columns (see the module's rules); linear in the sessions' columns."""
    if requested is not None:
        return _check_requested(sessions, requested)
    groups: dict[frozenset[str], list[SessionRow]] = defaultdict(list)
    for session in sessions:
        groups[frozenset(session.features)].append(session)
    if len(groups) == 1:
        return list(sessions[0].features)
    common = frozenset.intersection(*groups)
    ordered_common = [name for name in sessions[0].features if name in common]
    described = "; ".join(
        f"{len(members)} session(s) ({quoted((s.id for s in members), 3)}) have "
        f"[{quoted(members[0].features)}]"
        for members in sorted(groups.values(), key=len, reverse=True)[:3]
    )
    raise InvalidInput(
        f"the selected sessions do not all have the same feature columns: {described}. Give "
        '"features" to choose the columns (every selected session must have them'
        + (f"; all have [{quoted(ordered_common)}])" if ordered_common else "; none is common)")
        + ", or select sessions that agree",
        session=sorted(groups.values(), key=len)[0][0].id,
    )


def _check_requested(sessions: Sequence[SessionRow], requested: list[str]) -> list[str]:
    if not requested or len(set(requested)) != len(requested):
        raise InvalidInput("features must list each feature column once (at least one)")
    wanted = set(requested)
    for session in sessions:
        missing = wanted.difference(session.features)
        if missing:
            name = next(name for name in requested if name in missing)
            lacking = [s.id for s in sessions if name not in set(s.features)]
            raise InvalidInput(
                f"unknown feature {name!r}: {len(lacking)} selected session(s) lack it (e.g. "
                f"{lacking[0]!r}); its columns are [{quoted(session.features)}]",
                session=lacking[0],
                column=name,
            )
    return list(requested)


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
