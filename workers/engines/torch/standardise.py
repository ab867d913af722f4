"""Per-feature standardisation learned on the training rows, folded into the first layer.

The network trains on (x - mean) / sd. The convolution is linear in its input, so afterwards
the statistics go into its weights and bias: conv'(x) = conv((x - mean) / sd) for every x,
padding rows included (raw 0 becomes -mean / sd, exactly what training saw for them). The
exported model, streaming and prediction keep taking raw sensor values, unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from workers.engines.torch.model import ActivityNet, tensor

MIN_SD = 1e-6  # a constant feature is centred, not scaled
APPLY_BLOCK = 256  # chunks standardised at a time: float64 temporaries of a few MB


@dataclass(frozen=True)
class Standardiser:
    mean: np.ndarray  # (F,) float64
    sd: np.ndarray  # (F,) float64, at least MIN_SD... or 1 for a constant feature

    @classmethod
    def fit(cls, features: np.ndarray) -> Standardiser:
        """Statistics of the (N, F) training rows, in float64 (accumulated so, without a
        float64 copy of the rows: the same figures, bit for bit)."""
        sd = features.std(axis=0, dtype=np.float64)
        return cls(mean=features.mean(axis=0, dtype=np.float64), sd=np.where(sd < MIN_SD, 1.0, sd))

    def apply(self, grid: np.ndarray) -> np.ndarray:
        """(K, …, F) raw values → standardised float32 (a new array), computed in float64 a
        block of APPLY_BLOCK along the first axis at a time: the same values as one pass,
        without two float64 temporaries of the whole grid (a run's data can be 100s of MB)."""
        out = np.empty(grid.shape, dtype=np.float32)
        for start in range(0, len(grid), APPLY_BLOCK):
            block = slice(start, start + APPLY_BLOCK)
            out[block] = (grid[block] - self.mean) / self.sd
        return out

    @torch.no_grad()
    def fold_into(self, net: ActivityNet) -> None:
        """Make `net` take raw values: W' = W / sd, b' = b - Σ W'·mean (over features, time)."""
        weight = net.conv.weight  # (64, F, pw)
        sd = torch.as_tensor(self.sd, dtype=torch.float64, device=weight.device)
        mean = torch.as_tensor(self.mean, dtype=torch.float64, device=weight.device)
        folded = weight.double() / sd[None, :, None]  # (64, F, pw)
        bias = tensor(net.conv.bias)
        bias.copy_(bias.double() - (folded * mean[None, :, None]).sum(dim=(1, 2)))
        weight.copy_(folded)
