"""The stored data summarised: sessions, rows and seconds per activity / subject / split /
set of channels, and what to fix before training (imbalance, mixed sample rates, mixed
channels, values that contradict their units).

Aggregated by the database: grouping every row in Python took 56 ms at 10k sessions and grew
with them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from core.channels import in_table_order, layout_of
from core.models import MotionSession
from service.sessions.schemas import GroupStats, Stats
from service.sessions.service import quoted

IMBALANCE_RATIO = 2.0
EXAMPLES = 3  # session ids named as examples
NONE = "(none)"
GROUPED_BY = {
    "activity": MotionSession.activity,
    "subject": MotionSession.subject,
    "split": MotionSession.split,
}
AGGREGATES = (
    func.count(),
    func.coalesce(func.sum(MotionSession.row_count), 0),
    func.sum(MotionSession.duration_s),
    func.count(MotionSession.duration_s),  # sessions of a known duration
)


def session_stats(db: Session) -> Stats:
    total = _group_stats(*db.execute(select(*AGGREGATES)).one())
    by = {}
    for name, column in GROUPED_BY.items():
        rows = db.execute(select(column, *AGGREGATES).group_by(column)).all()
        groups = {(key if key is not None else NONE): _group_stats(*rest) for key, *rest in rows}
        by[name] = dict(sorted(groups.items()))
    known_rate = MotionSession.sample_rate_hz.is_not(None)
    rate_counts = db.execute(
        select(MotionSession.sample_rate_hz, func.count())
        .where(known_rate)
        .group_by(MotionSession.sample_rate_hz)
    )
    rates = Counter({float(rate): count for rate, count in rate_counts if rate is not None})

    def sessions_not_at(usual: float) -> list[str]:
        query = (
            select(MotionSession.id)
            .where(known_rate, MotionSession.sample_rate_hz != usual)
            .limit(EXAMPLES)
        )
        return list(db.scalars(query))

    by_channels = _by_channels(db)
    warnings = imbalance_warnings({name: g.sessions for name, g in by["activity"].items()})
    warnings += mixed_rate_warnings(rates, sessions_not_at)
    warnings += mixed_channel_warnings(len(by_channels))
    warnings += _unit_warnings(db)
    return Stats(
        sessions=total.sessions,
        rows=total.rows,
        seconds=total.seconds,
        by_activity=by["activity"],
        by_subject=by["subject"],
        by_split=by["split"],
        by_channels=by_channels,
        warnings=warnings,
    )


def _by_channels(db: Session) -> dict[str, GroupStats]:
    """Per set of canonical features: stored layouts that read alike are one group."""
    layouts = cast(MotionSession.channels, String)
    merged: dict[str, list] = {}
    for stored, sessions, rows, seconds, timed in db.execute(
        select(layouts, *AGGREGATES).group_by(layouts)
    ):
        key = ", ".join(in_table_order(layout_of(json.loads(stored)).offered))
        total = merged.setdefault(key, [0, 0, 0.0, 0])
        for i, value in enumerate((sessions, rows, seconds or 0.0, timed)):
            total[i] += value
    return {key: _group_stats(*total) for key, total in sorted(merged.items())}


def _unit_warnings(db: Session) -> list[str]:
    """The sessions whose values contradict their units (each one's warnings say how)."""
    warned = MotionSession.warnings.is_not(None)
    count = db.scalar(select(func.count()).where(warned)) or 0
    if not count:
        return []
    examples = db.execute(
        select(MotionSession.id, MotionSession.warnings)
        .where(warned)
        .order_by(MotionSession.id)
        .limit(EXAMPLES)
    ).all()
    ids = quoted([session_id for session_id, _ in examples], EXAMPLES, total=count)
    first_id, first = examples[0][0], examples[0][1][0]
    return [
        f"{count} session(s) have values that contradict their units ({ids}); e.g. "
        f"{first_id!r}: {first}. GET /v1/sessions/{{id}} shows each one's channels and warnings"
    ]


def _group_stats(sessions: Any, rows: Any, seconds: Any, timed: Any) -> GroupStats:
    """(count, sum of rows, sum of durations, count of known durations) as a group's figures."""
    known = seconds is not None and timed == sessions  # one unknown rate: the time is unknown
    return GroupStats(
        sessions=sessions, rows=int(rows), seconds=round(seconds, 6) if known else None
    )


def imbalance_warnings(counts: dict[str, int]) -> list[str]:
    if len(counts) < 2 or max(counts.values()) <= IMBALANCE_RATIO * min(counts.values()):
        return []
    most, least = max(counts, key=counts.__getitem__), min(counts, key=counts.__getitem__)
    return [
        f"classes are imbalanced: {most!r} has {counts[most]} sessions, {least!r} only "
        f"{counts[least]} (more than {IMBALANCE_RATIO:g}x); record more {least!r} sessions"
    ]


def sample_rate_warnings(sessions: Sequence[Any]) -> list[str]:
    """A warning when sessions (rows at hand, e.g. a run's) of known rates do not share one."""
    rates = Counter(s.sample_rate_hz for s in sessions if s.sample_rate_hz is not None)
    return mixed_rate_warnings(
        rates, lambda usual: [s.id for s in sessions if s.sample_rate_hz not in (None, usual)]
    )


def mixed_rate_warnings(
    rates: Counter[float], sessions_not_at: Callable[[float], list[str]]
) -> list[str]:
    if len(rates) < 2:
        return []
    usual = rates.most_common(1)[0][0]
    odd = quoted(sessions_not_at(usual), EXAMPLES, total=sum(rates.values()) - rates[usual])
    counts = ", ".join(f"{rate:g} Hz: {count}" for rate, count in rates.most_common())
    return [
        f"the sessions have different sample rates ({counts} sessions; e.g. "
        f"{odd} differ from {usual:g} Hz): a window of "
        "the same number of samples spans different durations. Resample them to one rate, or "
        "select sessions of one rate"
    ]


def mixed_channel_warnings(distinct_sets: int) -> list[str]:
    if distinct_sets < 2:
        return []
    return [
        f"the sessions have {distinct_sets} different sets of channels (by_channels): a run "
        'over sessions that differ uses the features they all share, or those "features" '
        "names (sessions without them are left out)"
    ]
