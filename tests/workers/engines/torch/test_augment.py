"""The motionlab recipe's augmentation pieces (issue 28): sensor triples found by name, rotations
that turn the accelerometer and the gyroscope of a chunk together and keep vector lengths, and
tempo changes that resample sessions without inventing labels."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from workers.engines.torch.augment import (
    ChunkAugmentation,
    random_resample,
    random_rotations,
    rotate_triples,
)
from workers.engines.torch.standardise import Standardiser
from workers.motion_data import MotionData

pytestmark = pytest.mark.unit


def _chunk_rows(batch: int = 4, steps: int = 30) -> torch.Tensor:
    """(B, T, 7) raw rows: an accelerometer, a gyroscope and a heart rate."""
    generator = torch.Generator().manual_seed(0)
    return torch.randn((batch, steps, 7), generator=generator) * 3 + 1


def test_rotations_are_proper_and_within_the_angle():
    rotations = random_rotations(500, math.radians(30), torch.Generator().manual_seed(1), "cpu")
    eye = torch.eye(3).expand(500, 3, 3)
    torch.testing.assert_close(rotations @ rotations.transpose(1, 2), eye, atol=1e-5, rtol=0)
    torch.testing.assert_close(torch.linalg.det(rotations), torch.ones(500), atol=1e-5, rtol=0)
    cos_angle = (rotations.diagonal(dim1=1, dim2=2).sum(-1) - 1) / 2  # trace = 1 + 2 cos θ
    angles = torch.rad2deg(torch.arccos(cos_angle.clamp(-1, 1)))
    assert angles.max() <= 30.01 and angles.max() > 25  # the whole range is drawn


def test_a_rotation_keeps_vector_norms_and_turns_both_sensors_of_a_chunk_alike():
    rows = _chunk_rows()
    rotations = random_rotations(4, math.radians(45), torch.Generator().manual_seed(2), "cpu")
    rotated = rotate_triples(rows, [(0, 1, 2), (3, 4, 5)], rotations)
    for columns in ([0, 1, 2], [3, 4, 5]):
        torch.testing.assert_close(
            rotated[:, :, columns].norm(dim=-1), rows[:, :, columns].norm(dim=-1)
        )
        # The very rotation of its chunk, for the accelerometer and the gyroscope alike.
        expected = torch.einsum("bij,btj->bti", rotations, rows[:, :, columns])
        torch.testing.assert_close(rotated[:, :, columns], expected)
    torch.testing.assert_close(rotated[:, :, 6], rows[:, :, 6])  # not a vector: untouched
    assert not torch.allclose(rotated[0, :, :3], rows[0, :, :3])


def test_rotation_of_standardised_rows_is_a_rotation_of_the_raw_vectors():
    raw = _chunk_rows()
    standardiser = Standardiser.fit(raw.reshape(-1, 7).numpy())
    augmentation = ChunkAugmentation(
        triples=[(0, 1, 2), (3, 4, 5)],
        max_rotation=math.radians(30),
        magnitude_warp_sd=0.0,
        mean=torch.as_tensor(standardiser.mean, dtype=torch.float32),
        sd=torch.as_tensor(standardiser.sd, dtype=torch.float32),
    )
    rotations = random_rotations(4, math.radians(30), torch.Generator().manual_seed(3), "cpu")
    standardised = torch.from_numpy(standardiser.apply(raw.numpy()))
    rotated = augmentation.rotate(standardised, rotations)
    expected = standardiser.apply(rotate_triples(raw, augmentation.triples, rotations).numpy())
    torch.testing.assert_close(rotated, torch.from_numpy(expected), atol=1e-4, rtol=1e-4)


def _ramp_sessions(lengths: list[int]) -> MotionData:
    """Sessions whose feature is the row's position in its session; label per session."""
    position = np.concatenate([np.arange(n) for n in lengths]).astype(np.float32)
    return MotionData(
        session_ids=np.repeat(np.arange(len(lengths)), lengths),
        features=position[:, None],
        feature_names=("t",),
        targets=np.repeat([f"class{i % 2}" for i in range(len(lengths))], lengths),
    )


def test_resampling_starts_each_session_at_a_random_row_and_goes_at_one_speed():
    data = _ramp_sessions([200, 90, 301])
    stretched = random_resample(data, 10, 0.2, np.random.default_rng(0))
    assert stretched.num_sessions == 3
    for start, length, original in zip(
        stretched.session_starts, stretched.session_lengths, data.session_lengths, strict=True
    ):
        ramp = stretched.features[start : start + length, 0]
        speed = float(np.diff(ramp).mean())
        assert 0.8 <= speed <= 1.2  # one speed per session, within the range
        np.testing.assert_allclose(np.diff(ramp), speed, atol=1e-3)  # the same all along
        assert ramp[0] in range(10)  # a random first row within the first window
        assert ramp[-1] <= original - 1  # never past the session's end
        assert 0 <= (original - 1 - ramp[0]) / speed - (length - 1) < 1.001  # every row it can
    label_of_session = dict(zip(data.session_ids, data.targets, strict=True))
    rows = zip(stretched.session_ids, stretched.targets, strict=True)
    assert all(label_of_session[session] == label for session, label in rows)


def test_tempo_of_zero_changes_nothing():
    data = _ramp_sessions([50, 70])
    same = random_resample(data, 1, 0.0, np.random.default_rng(0))
    np.testing.assert_array_equal(same.features, data.features)
    np.testing.assert_array_equal(same.targets, data.targets)
