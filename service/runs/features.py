"""A run's features: canonical channels (core/channels.py) that its sessions have, where each
comes from in each session, the unit it trains in, and what to warn about.

The rules, so that data from any app combines and nothing is left out without a word:
- `features` names canonical features (accelX, rotX, …; an `other` column by its name).
  Sessions that lack one are left out, with a warning that says how many and why; a 422 only
  when none is left.
- Without `features`, sessions laid out alike give all their channels (in column order, as
  before channels); sessions that differ give the features they all share (a warning names
  what is left unused), and a 422 when they share none.
- A feature may come from a column in another unit (scaled), or from two channels (the
  accelerometer from user acceleration and gravity); each session's sources are frozen with
  the run, so later changes to a session never change what a run trains on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from core.channels import (
    CANONICAL_NAMES,
    SENSORS,
    Layout,
    Source,
    in_table_order,
    is_identity,
    layout_of,
)
from core.params import FeatureChannel
from core.unit_checks import CHECKS, SessionLevels, disagreements
from core.units import canonical_unit
from service.errors import InvalidInput
from service.runs.selection import SessionRow
from service.sessions.service import quoted


@dataclass(frozen=True)
class RunFeatures:
    features: list[str]
    sessions: list[SessionRow]  # those that have every feature, in the selection's order
    sources: list[list[Source] | None]  # per session; None: each feature is its own column
    channels: list[FeatureChannel]  # per feature, in the unit the run trains it in
    warnings: list[str]


def resolve_features(sessions: Sequence[SessionRow], requested: list[str] | None) -> RunFeatures:
    layouts = [layout_of(s.channels) for s in sessions]
    warnings: list[str] = []
    if requested is not None:
        features, kept = _requested(sessions, layouts, requested, warnings)
    else:
        features, kept = _shared(sessions, layouts, warnings), list(range(len(sessions)))
    by_layout: dict[int, list[Source] | None] = {}  # sessions laid out alike share theirs
    sources: list[list[Source] | None] = []
    for i in kept:
        key = id(layouts[i])
        if key not in by_layout:
            found = layouts[i].sources(features)
            assert found is not None  # kept sessions have every feature
            by_layout[key] = None if is_identity(found, features) else found
        sources.append(by_layout[key])
    channels = _channels(features, [layouts[i] for i in kept])
    return RunFeatures(
        features=features,
        sessions=[sessions[i] for i in kept],
        sources=sources,
        channels=channels,
        warnings=warnings + _other_unit_warnings(features, [layouts[i] for i in kept]),
    )


def _requested(
    sessions: Sequence[SessionRow], layouts: list[Layout], requested: list[str], warnings: list
) -> tuple[list[str], list[int]]:
    if not requested or len(set(requested)) != len(requested):
        raise InvalidInput("features must list each feature once (at least one)")
    wanted = set(requested)
    has_all = [wanted.issubset(layout.offered) for layout in layouts]
    kept = [i for i, has in enumerate(has_all) if has]
    lacking = [i for i, has in enumerate(has_all) if not has]
    examples = "; ".join(
        f"{sessions[i].id!r} lacks {quoted(n for n in requested if n not in layouts[i].offered)}"
        for i in lacking[:3]
    )
    if not kept:
        raise InvalidInput(
            f"no selected session has all of the features {quoted(requested)} ({examples}). "
            f"Features are canonical names{_column_hint(requested, layouts)}; "
            "GET /v1/sessions/{id} lists each session's canonical_features",
            session=sessions[lacking[0]].id,
        )
    if lacking:
        warnings.append(
            f"{len(lacking)} of the {len(sessions)} selected sessions lack some of the features "
            f"and were left out ({examples}{' …' if len(lacking) > 3 else ''})"
        )
    return list(requested), kept


def _column_hint(requested: list[str], layouts: list[Layout]) -> str:
    """Where a requested name is a stored column of a known sensor: its canonical name."""
    distinct = list({id(layout): layout for layout in layouts}.values())
    for name in requested:
        for layout in distinct:
            channel = layout.by_column.get(name)
            if channel is not None and channel.name != name:
                return (
                    f": column {name!r} is the {channel.sensor} {channel.axis}, feature "
                    f"{channel.name!r}"
                )
    return ""


def _alike(layouts: list[Layout]) -> dict[int, tuple[Layout, int]]:
    """Each distinct layout (sessions laid out alike share one) and how many sessions have it:
    a run's 10,000 sessions have a few."""
    counts = Counter(id(layout) for layout in layouts)
    return {id(layout): (layout, counts[id(layout)]) for layout in layouts}


def _shared(sessions: Sequence[SessionRow], layouts: list[Layout], warnings: list) -> list[str]:
    if len({tuple(layout.by_name) for layout, _ in _alike(layouts).values()}) == 1:
        return list(layouts[0].by_name)  # laid out alike: every channel, in column order
    common = set(layouts[0].offered).intersection(*(layout.offered for layout in layouts[1:]))
    groups = Counter(frozenset(layout.by_name) for layout in layouts)
    described = "; ".join(
        f"{count} session(s) have [{quoted(in_table_order(names), show=str)}]"
        for names, count in groups.most_common(3)
    )
    if not common:
        raise InvalidInput(
            f"the selected sessions share no feature ({described}): select sessions that have "
            'channels in common, or give "features" (sessions without them are left out)',
            session=sessions[0].id,
        )
    features = in_table_order(common)
    unused = Counter(n for layout in layouts for n in layout.by_name if n not in common)
    warnings.append(
        f"the selected sessions have different channels ({described}): the run uses the "
        f"{len(features)} features they all share [{quoted(features, show=str)}]"
        + f"; unused: {quoted((f'{n} ({c} sessions)' for n, c in unused.most_common()), show=str)}"
        * bool(unused)
        + '. Give "features" to choose'
    )
    return features


def _channels(features: list[str], layouts: list[Layout]) -> list[FeatureChannel]:
    """Each feature's channel, in its canonical unit (an `other` one: its sessions' usual)."""
    distinct = list({id(layout): layout for layout in layouts}.values())
    found = []
    for name in features:
        if name in CANONICAL_NAMES:  # a known sensor's: in its canonical unit
            sensor, axis = CANONICAL_NAMES[name]
            unit = canonical_unit(SENSORS[sensor].quantity)
            found.append(FeatureChannel(name=name, sensor=str(sensor), axis=axis, unit=unit))
            continue
        units = Counter(layout.by_name[name].unit for layout in distinct)
        found.append(FeatureChannel(name=name, sensor="other", unit=units.most_common(1)[0][0]))
    return found


def _other_unit_warnings(features: list[str], layouts: list[Layout]) -> list[str]:
    """An `other` feature is never converted: sessions that give it in different units mix."""
    alike = _alike(layouts)
    warnings = []
    for name in features:
        units: Counter[str | None] = Counter()
        for layout, sessions in alike.values():
            if name in layout.by_name and layout.by_name[name].kind is None:
                units[layout.by_name[name].unit] += sessions
        if len(units) > 1:
            warnings.append(
                f"feature {name!r} (an other column, never converted) comes in different units "
                f"({', '.join(f'{u or None}: {c} sessions' for u, c in units.most_common())}); "
                "convert it before uploading, or select sessions of one unit"
            )
    return warnings


def unit_warnings(run: RunFeatures, sessions: Sequence[SessionRow], labels: list[str]) -> list[str]:
    """Sessions whose values contradict their units, and sessions that disagree on a sensor's
    level (core/unit_checks.py), among the run's `sessions` (after an overfit check's cut)."""
    warned = [s for s in sessions if s.warnings]
    warnings = []
    if warned:
        first = warned[0]
        warnings.append(
            f"{len(warned)} of the run's {len(sessions)} sessions have values that "
            f"contradict their units ({quoted((s.id for s in warned), 3)}); e.g. "
            f"{first.id!r}: {first.warnings[0]}"
        )
    sensors = sorted({c.sensor for c in run.channels if c.sensor in CHECKS})
    levels = [
        SessionLevels(s.id, label, s.channel_levels)
        for s, label in zip(sessions, labels, strict=True)
    ]
    return warnings + disagreements(levels, sensors)
