"""Which rows validate: Turi Create's 'auto' session split (spec §1.4), None, or given data.

The 'auto' rule keeps Turi Create's session-count thresholds and train fractions, but each
distinct session id draws its uniform number from NumPy's PCG64 seeded with random_seed (ids
in sorted order) instead of Turi Create's hash-seeded C++ engine, which cannot be reproduced.
As in Turi Create, all rows of an id land on the same side and the fraction holds only in
expectation.
"""

from __future__ import annotations

import logging

import numpy as np

from workers.engines.torch.data import MotionData, MotionDataError

logger = logging.getLogger(__name__)

MIN_SESSIONS_FOR_SPLIT = 50  # Turi Create's code; its docs say 100


def auto_validation_split(
    data: MotionData, seed: int, log: logging.Logger = logger
) -> tuple[MotionData, MotionData | None]:
    """Turi Create's 'auto' rule: hold out whole sessions when there are at least 50."""
    unique_ids, session_of_row = np.unique(data.session_ids, return_inverse=True)
    num_ids = len(unique_ids)
    if num_ids >= 200_000:
        train_fraction = 10_000 / num_ids  # Turi Create's inverted fraction, kept (spec §1.4)
    elif num_ids >= 200:
        train_fraction = 0.95
    elif num_ids >= MIN_SESSIONS_FOR_SPLIT:
        train_fraction = 0.90
    else:
        log.info(
            "no validation split: sessions=%d is below the minimum of %d for 'auto'",
            num_ids,
            MIN_SESSIONS_FOR_SPLIT,
        )
        return data, None
    draws = np.random.default_rng(seed % 2**64).random(num_ids)  # one per distinct id
    in_train = (draws < train_fraction)[session_of_row]  # (N,) every row of an id together
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
