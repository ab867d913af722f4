"""Split strategies: which part (train / valid / test) each session of a run belongs to.

Resolved once, when a run is created, and frozen with it. Whole sessions (or whole subjects)
always land on one side: keeping one person's data out of the set it is tested on is the point.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

STRATEGIES = ("column", "session", "subject", "auto", "none")

# Turi Create's 'auto' validation rule (spec §1.4): session-count thresholds → train fraction.
AUTO_MIN_SESSIONS = 50
AUTO_TYPICAL_SESSIONS = 200
AUTO_HUGE_SESSIONS = 200_000


@dataclass(frozen=True)
class SessionRef:
    id: str
    subject: str | None
    split: str | None  # the session's stored split (train / valid / test / None)


def auto_train_fraction(num_sessions: int) -> float:
    """Turi Create 6.4's rule, bug above 200k sessions included (it keeps ~10k for training)."""
    if num_sessions >= AUTO_HUGE_SESSIONS:
        return 10_000 / num_sessions
    if num_sessions >= AUTO_TYPICAL_SESSIONS:
        return 0.95
    if num_sessions >= AUTO_MIN_SESSIONS:
        return 0.90
    return 1.0


def _uniform(key: str, seed: int) -> float:
    """A stable draw in [0, 1) per (key, seed): the same key lands on the same side."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _by_group(keys: Sequence[str], valid_fraction: float, test_fraction: float, seed: int):
    draws = np.array([_uniform(key, seed) for key in keys])
    return np.where(
        draws < test_fraction,
        "test",
        np.where(draws < test_fraction + valid_fraction, "valid", "train"),
    )


def assign_parts(
    sessions: Sequence[SessionRef],
    *,
    strategy: str,
    seed: int,
    valid_fraction: float = 0.0,
    test_fraction: float = 0.0,
) -> list[str]:
    """The part of each session, in order. Raises ValueError with a user-facing message."""
    if strategy == "none":
        return ["train"] * len(sessions)
    if strategy == "column":
        return [s.split or "train" for s in sessions]
    if strategy == "auto":
        fraction = auto_train_fraction(len({s.id for s in sessions}))
        return list(_by_group([s.id for s in sessions], 1.0 - fraction, 0.0, seed))
    if strategy == "session":
        return list(_by_group([s.id for s in sessions], valid_fraction, test_fraction, seed))
    if strategy == "subject":
        missing = [s.id for s in sessions if not s.subject]
        if missing:
            raise ValueError(
                f"split strategy 'subject' needs a subject on every session; "
                f"{len(missing)} have none (e.g. {missing[0]!r}); upload them with a subject "
                "or use strategy 'session'"
            )
        subjects = sorted({s.subject for s in sessions})
        part_of = dict(
            zip(subjects, _by_group(subjects, valid_fraction, test_fraction, seed), strict=True)
        )
        return [str(part_of[s.subject]) for s in sessions]
    raise ValueError(f"unknown split strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
