"""Split strategies: which part (train / valid / test) each session of a run belongs to.

Resolved once, when a run is created, and frozen with it. Whole sessions (or whole subjects)
always land on one side: keeping one person's data out of the set it is tested on is the point.
Turi Create's 'auto' rule lives here once, for the API and for the torch library alike: the
same ids and seed give the same split everywhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # NumPy loads where a split is drawn, not where a run's params are read
    import numpy as np

STRATEGIES = ("column", "session", "subject", "auto", "none")

# Turi Create's 'auto' validation rule (spec §1.4): session-count thresholds → train fraction.
AUTO_MIN_SESSIONS = 50  # Turi Create's code; its docs say 100
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


def uniform_draws(keys: Sequence[object], seed: int) -> np.ndarray:
    """A stable draw in [0, 1) per (key, seed): a key lands on the same side whatever other
    keys are drawn with it (adding a session never moves the others)."""
    import numpy as np

    digests = (hashlib.sha256(f"{seed}:{key}".encode()).digest() for key in keys)
    return np.fromiter((int.from_bytes(d[:8], "big") / 2**64 for d in digests), float, len(keys))


def auto_in_train(session_ids: Sequence[object], seed: int) -> np.ndarray:
    """Turi Create's 'auto' rule over distinct session ids: True where a session trains."""
    fraction = auto_train_fraction(len(session_ids))
    return uniform_draws(session_ids, seed) < fraction


def _by_group(keys: Sequence[str], valid_fraction: float, test_fraction: float, seed: int):
    import numpy as np

    draws = uniform_draws(keys, seed)
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
        distinct = list(dict.fromkeys(s.id for s in sessions))
        trains = dict(zip(distinct, auto_in_train(distinct, seed), strict=True))
        return ["train" if trains[s.id] else "valid" for s in sessions]
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
        subjects = sorted({s.subject for s in sessions if s.subject})
        part_of = dict(
            zip(subjects, _by_group(subjects, valid_fraction, test_fraction, seed), strict=True)
        )
        return [str(part_of[s.subject]) for s in sessions if s.subject]
    raise ValueError(f"unknown split strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
