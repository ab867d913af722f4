"""Training-time augmentation of the motionlab recipe; vectorised, seeded, never at inference.

* Random offsets: each epoch, every session drops a random number of its first rows
  (0 … prediction_window - 1), so window boundaries fall somewhere else each time instead of
  always at the session's first row. Labels are recomputed from the shifted rows.
* Scaling: each chunk's features (standardised) are multiplied by a factor per feature drawn
  from U(1 - SCALE, 1 + SCALE): sensors differ in gain, people in vigour.
* Jitter: Gaussian noise of JITTER_SD (in standard deviations of each feature) on every row.
3-D rotations of sensor triples are not applied: which columns form a triple (and whether
they are a body-fixed accelerometer) is not known in general.
"""

from __future__ import annotations

import numpy as np
import torch

from workers.motion_data import MotionData

SCALE = 0.1
JITTER_SD = 0.05


def random_offsets(
    data: MotionData, prediction_window: int, rng: np.random.Generator
) -> MotionData:
    """`data` without the first r_s rows of each session s, r_s ~ U{0 … pw-1} (≥ 1 row kept)."""
    starts, lengths = data.session_starts, data.session_lengths  # (S,), (S,)
    num_sessions = len(starts)
    offsets = np.minimum(rng.integers(0, prediction_window, num_sessions), lengths - 1)  # (S,)
    row_session = np.repeat(np.arange(num_sessions), lengths)  # (N,)
    position = np.arange(data.num_rows) - starts[row_session]  # (N,) row within its session
    keep = position >= offsets[row_session]
    return MotionData(
        session_ids=row_session[keep],  # (N',) one id per session, as before
        features=data.features[keep],
        feature_names=data.feature_names,
        targets=None if data.targets is None else data.targets[keep],
        session_column=data.session_column,
        target_column=data.target_column,
    )


def scale_and_jitter(rows: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """(B, T, F) standardised rows → augmented copy: per-chunk feature gain, then noise."""
    batch, _, num_features = rows.shape
    gain = torch.empty((batch, 1, num_features), device=rows.device)
    gain.uniform_(1.0 - SCALE, 1.0 + SCALE, generator=generator)  # (B, 1, F)
    noise = torch.empty_like(rows).normal_(0.0, JITTER_SD, generator=generator)  # (B, T, F)
    return rows * gain + noise
