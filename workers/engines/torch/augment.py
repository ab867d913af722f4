"""Training-time augmentation of the motionlab recipe; vectorised, seeded, never at inference.

Per session, each epoch (NumPy, before the sessions are cut into chunks), in one resampling:
* Random offsets: every session starts at a random row among its first pw (0 … pw - 1), so
  window boundaries fall somewhere else each time instead of always at its first row.
* Tempo: every session is read at a random speed, as if performed faster or slower.
  Labels follow the rows they came from.
Per chunk, each batch (torch, on the training device):
* Scaling: each chunk's features (standardised) are multiplied by a factor per feature drawn
  from U(1 - SCALE, 1 + SCALE): sensors differ in gain, people in vigour.
* Jitter: Gaussian noise of JITTER_SD (in standard deviations of each feature) on every row.
Measured and off in both recipes (recipes.py has the figures), for ablations and issue 27:
* Rotation: one random 3-D rotation per chunk turns every sensor triple (core/triples.py) of
  that chunk together: accelerometer and gyroscope share the device's frame, and a watch or
  phone sits a little differently on every person. Applied to raw values (the standardised
  rows are mapped back, rotated, standardised again), so it is a true rotation.
* Magnitude warp: a smooth random gain over time, the same for all features of a chunk.
* Mixup (epochs.py): chunks mixed in pairs, rows and losses alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from workers.motion_data import MotionData

SCALE = 0.1
JITTER_SD = 0.05


def random_resample(
    data: MotionData, prediction_window: int, tempo_change: float, rng: np.random.Generator
) -> MotionData:
    """Each session s from a random first row r_s ~ U{0 … pw-1} at a random speed
    v_s ~ U(1 - tempo_change, 1 + tempo_change): output row j is the input at r_s + j·v_s,
    linearly interpolated, with the label of the nearest input row. At speed 1 (tempo_change
    0) rows are copied exactly and only the first r_s are dropped. At least 1 row is kept."""
    starts, lengths = data.session_starts, data.session_lengths  # (S,), (S,)
    num_sessions = len(starts)
    offsets = np.minimum(rng.integers(0, prediction_window, num_sessions), lengths - 1)  # (S,)
    speed = np.ones(num_sessions)
    if tempo_change > 0:
        speed = rng.uniform(1.0 - tempo_change, 1.0 + tempo_change, num_sessions)  # (S,)
    new_lengths = np.floor((lengths - 1 - offsets) / speed).astype(np.int64) + 1  # (S,)
    row_session = np.repeat(np.arange(num_sessions), new_lengths)  # (N',)
    first = np.cumsum(new_lengths) - new_lengths
    step = np.arange(len(row_session)) - first[row_session]  # (N',) output row in its session
    position = offsets[row_session] + step * speed[row_session]  # (N',) float64, ≤ length - 1
    last = starts[row_session] + lengths[row_session] - 1
    below = starts[row_session] + np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, last)
    fraction = (position - np.floor(position)).astype(np.float32)[:, None]  # (N', 1)
    features = data.features[below]  # (N', F)
    features = features + fraction * (data.features[above] - features)  # exact at fraction 0
    nearest = np.minimum(starts[row_session] + np.rint(position).astype(np.int64), last)
    return MotionData(
        session_ids=row_session,  # (N',) one id per session, as before
        features=features,
        feature_names=data.feature_names,
        targets=None if data.targets is None else data.targets[nearest],
        session_column=data.session_column,
        target_column=data.target_column,
    )


def random_rotations(
    count: int, max_angle: float, generator: torch.Generator, device: torch.device | str
) -> torch.Tensor:
    """(count, 3, 3) rotations about uniformly random axes by angles ~ U(-max_angle, max_angle)
    (radians), by Rodrigues' formula."""
    axis = torch.empty((count, 3), device=device).normal_(generator=generator)
    axis = axis / axis.norm(dim=1, keepdim=True).clamp(min=1e-12)  # (n, 3) unit
    angle = torch.empty((count, 1, 1), device=device).uniform_(-1.0, 1.0, generator=generator)
    angle = angle * max_angle  # (n, 1, 1)
    x, y, z = axis.unbind(dim=1)
    zero = torch.zeros_like(x)
    cross = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=1).view(
        count, 3, 3
    )  # [axis]_× (n, 3, 3)
    eye = torch.eye(3, device=device).expand(count, 3, 3)
    return eye + torch.sin(angle) * cross + (1.0 - torch.cos(angle)) * (cross @ cross)


def rotate_triples(
    rows: torch.Tensor, triples: list[tuple[int, int, int]], rotations: torch.Tensor
) -> torch.Tensor:
    """(B, T, F) raw rows → a copy with every triple's vectors turned by its chunk's rotation
    (B, 3, 3); other columns unchanged."""
    rotated = rows.clone()
    for triple in triples:
        columns = list(triple)
        vectors = rows[:, :, columns]  # (B, T, 3)
        rotated[:, :, columns] = vectors @ rotations.transpose(1, 2)  # v' = R v, row-wise
    return rotated


@dataclass(frozen=True)
class ChunkAugmentation:
    """The per-chunk augmentation of one training run, applied to each batch of standardised
    rows; `mean` and `sd` (F,) map them back to raw values for the rotations."""

    triples: list[tuple[int, int, int]]
    max_rotation: float  # radians; 0 = no rotation
    magnitude_warp_sd: float  # 0 = no warp
    mean: torch.Tensor  # (F,)
    sd: torch.Tensor  # (F,)

    def __call__(self, rows: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """(B, T, F) standardised rows → augmented copy."""
        if self.max_rotation > 0.0 and self.triples:
            rotations = random_rotations(len(rows), self.max_rotation, generator, rows.device)
            rows = self.rotate(rows, rotations)
        if self.magnitude_warp_sd > 0.0:
            rows = rows * smooth_gain(rows.shape[:2], self.magnitude_warp_sd, generator, rows)
        return scale_and_jitter(rows, generator)

    def rotate(self, rows: torch.Tensor, rotations: torch.Tensor) -> torch.Tensor:
        """(B, T, F) standardised rows, (B, 3, 3) → the rows of the rotated raw vectors."""
        raw = rows * self.sd + self.mean
        return (rotate_triples(raw, self.triples, rotations) - self.mean) / self.sd


def smooth_gain(
    shape: torch.Size, sd: float, generator: torch.Generator, like: torch.Tensor
) -> torch.Tensor:
    """(B, T, 1) gains ~ N(1, sd) at KNOTS evenly spaced points, linearly interpolated."""
    batch, steps = shape
    knots = torch.empty((batch, 1, MAGNITUDE_KNOTS), device=like.device).normal_(
        1.0, sd, generator=generator
    )
    curve = torch.nn.functional.interpolate(knots, size=steps, mode="linear", align_corners=True)
    return curve.transpose(1, 2)  # (B, T, 1)


MAGNITUDE_KNOTS = 5


def scale_and_jitter(rows: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """(B, T, F) standardised rows → augmented copy: per-chunk feature gain, then noise."""
    batch, _, num_features = rows.shape
    gain = torch.empty((batch, 1, num_features), device=rows.device)
    gain.uniform_(1.0 - SCALE, 1.0 + SCALE, generator=generator)  # (B, 1, F)
    noise = torch.empty_like(rows).normal_(0.0, JITTER_SD, generator=generator)  # (B, T, F)
    return rows * gain + noise
