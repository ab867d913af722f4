"""Which rows validate: Turi Create's 'auto' session split (spec §1.4), None, or given data.

The 'auto' rule is core.splits' (Turi Create's session-count thresholds and train fractions;
each distinct session id draws a stable uniform number from (seed, id)), the same rule the API
applies to a run with split strategy 'auto': one seed, one split, wherever it is made. As in
Turi Create, all rows of an id land on the same side and the fraction holds only in
expectation.
"""

from __future__ import annotations

import logging

import numpy as np

from core.splits import AUTO_MIN_SESSIONS, auto_in_train
from workers.motion_data import MotionData, MotionDataError

logger = logging.getLogger(__name__)


def auto_validation_split(
    data: MotionData, seed: int, log: logging.Logger = logger
) -> tuple[MotionData, MotionData | None]:
    """Turi Create's 'auto' rule: hold out whole sessions when there are at least 50."""
    unique_ids, session_of_row = np.unique(data.session_ids, return_inverse=True)
    if len(unique_ids) < AUTO_MIN_SESSIONS:
        log.info(
            "no validation split: sessions=%d is below the minimum of %d for 'auto'",
            len(unique_ids),
            AUTO_MIN_SESSIONS,
        )
        return data, None
    in_train = auto_in_train(unique_ids.tolist(), seed)[session_of_row]  # (N,) per row
    if in_train.all():
        return data, None
    if not in_train.any():
        raise MotionDataError("the 'auto' split left no training sessions; pass validation=None")
    return data.take_rows(in_train), data.take_rows(~in_train)


def split_validation(
    data: MotionData, validation: MotionData | str | None, seed: int, log: logging.Logger
) -> tuple[MotionData, MotionData | None]:
    if validation is None:
        return data, None
    if isinstance(validation, str):
        if validation != "auto":
            raise ValueError(f"validation must be 'auto', None or MotionData; got {validation!r}")
        return auto_validation_split(data, seed, log)
    if validation.targets is None:
        raise MotionDataError("validation data needs the target column")
    return data, validation
