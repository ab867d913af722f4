"""Split strategies keep whole sessions / subjects on one side, reproducibly."""

from __future__ import annotations

import numpy as np
import pytest

from core.splits import SessionRef, assign_parts, auto_train_fraction
from workers.engines.torch import auto_validation_split
from workers.motion_data import MotionData

pytestmark = pytest.mark.unit


def refs(n: int, subjects: int = 10) -> list[SessionRef]:
    return [SessionRef(f"s{i:04d}", f"p{i % subjects}", None) for i in range(n)]


def test_subject_split_never_puts_one_person_on_two_sides():
    sessions = refs(300, subjects=20)
    parts = assign_parts(
        sessions, strategy="subject", seed=3, valid_fraction=0.2, test_fraction=0.2
    )
    sides: dict[str, set[str]] = {}
    for session, part in zip(sessions, parts, strict=True):
        sides.setdefault(session.subject, set()).add(part)
    assert all(len(s) == 1 for s in sides.values())
    assert set(parts) == {"train", "valid", "test"}


def test_session_split_fractions_hold_in_expectation_and_are_seeded():
    sessions = refs(2000)
    parts = assign_parts(
        sessions, strategy="session", seed=1, valid_fraction=0.1, test_fraction=0.2
    )
    assert parts.count("test") / 2000 == pytest.approx(0.2, abs=0.03)
    assert parts.count("valid") / 2000 == pytest.approx(0.1, abs=0.03)
    again = assign_parts(
        sessions, strategy="session", seed=1, valid_fraction=0.1, test_fraction=0.2
    )
    other = assign_parts(
        sessions, strategy="session", seed=2, valid_fraction=0.1, test_fraction=0.2
    )
    assert parts == again and parts != other


@pytest.mark.parametrize(
    ("sessions", "fraction"),
    [(25, 1.0), (49, 1.0), (50, 0.9), (199, 0.9), (200, 0.95), (400, 0.95), (400_000, 0.025)],
)
def test_auto_rule_follows_turi_create_thresholds(sessions, fraction):
    assert auto_train_fraction(sessions) == pytest.approx(fraction)


def test_auto_split_of_400_sessions_validates_about_five_percent():
    parts = assign_parts(refs(400), strategy="auto", seed=0)
    assert parts.count("valid") / 400 == pytest.approx(0.05, abs=0.03)
    assert "test" not in parts


def test_column_split_uses_the_stored_split_and_defaults_to_train():
    sessions = [SessionRef("a", None, "test"), SessionRef("b", None, None)]
    assert assign_parts(sessions, strategy="column", seed=0) == ["test", "train"]


def test_subject_split_needs_subjects():
    with pytest.raises(ValueError, match="needs a subject"):
        assign_parts([SessionRef("a", None, None)], strategy="subject", seed=0)


def test_one_seed_gives_one_auto_split_in_the_api_and_in_the_library():
    """POST /v1/runs (assign_parts) and the torch library's validation='auto' agree."""
    ids = [f"rec-{i:03d}" for i in range(120)]
    for seed in (0, 7, 2**31 - 1):
        parts = assign_parts([SessionRef(i, None, None) for i in ids], strategy="auto", seed=seed)
        rows_per_session = 4
        data = MotionData(
            session_ids=np.repeat(ids, rows_per_session),
            features=np.zeros((len(ids) * rows_per_session, 1)),
            feature_names=("x",),
            targets=np.repeat(["walk", "run"] * (len(ids) // 2), rows_per_session),
        )
        train, valid = auto_validation_split(data, seed=seed)
        assert valid is not None
        api_train = {i for i, part in zip(ids, parts, strict=True) if part == "train"}
        assert set(np.unique(train.session_ids)) == api_train
        assert set(np.unique(valid.session_ids)) == set(ids) - api_train
        assert 0 < len(api_train) < len(ids)
