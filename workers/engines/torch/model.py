"""The network of Turi Create 6.4's activity classifier (spec §2.1), in PyTorch.

Layer names match the Core ML export (spec §4.2) so weights map one to one:
conv → relu → dropout → lstm → dense0 → bn → relu → dropout → dense1 → softmax.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from workers.model.shape import CONV_CHANNELS, DENSE_HIDDEN, LSTM_HIDDEN


class Dropout(nn.Dropout):
    """nn.Dropout, with the mask drawn by uniform_ instead of bernoulli_.

    On CPU, bernoulli_ with a scalar p takes ~4x longer than uniform sampling, and dropout
    was ~10% of a training step. Same distribution: keep with probability 1-p, scale by 1/(1-p).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        scale = torch.empty_like(x).uniform_().ge_(self.p).mul_(1.0 / (1.0 - self.p))
        return x * scale


class ActivityNet(nn.Module):
    """Conv1D(window) → LSTM → Dense → BatchNorm → Dense(no bias); logits per window."""

    def __init__(self, *, num_features: int, num_classes: int, prediction_window: int):
        super().__init__()
        self.prediction_window = prediction_window
        # One conv step per window: kernel = stride = prediction_window.
        self.conv = nn.Conv1d(
            num_features, CONV_CHANNELS, kernel_size=prediction_window, stride=prediction_window
        )
        self.conv_dropout = Dropout(0.2)
        self.lstm = nn.LSTM(CONV_CHANNELS, LSTM_HIDDEN, batch_first=True)
        self.dense0 = nn.Linear(LSTM_HIDDEN, DENSE_HIDDEN)
        # Keras BatchNormalization: momentum 0.99 (PyTorch counts the other way), epsilon 1e-3.
        self.bn = nn.BatchNorm1d(DENSE_HIDDEN, eps=1e-3, momentum=0.01)
        self.dense_dropout = Dropout(0.5)
        self.dense1 = nn.Linear(DENSE_HIDDEN, num_classes, bias=False)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Glorot-uniform weights and zero biases, as Turi Create's init_model (spec §2.2)."""
        nn.init.xavier_uniform_(self.conv.weight)  # fan_in F·pw, fan_out 64·pw
        nn.init.zeros_(tensor(self.conv.bias))
        # Turi Create draws each LSTM gate matrix on its own (fan 64+200 or 200+200), not the
        # stacked (800, ·) matrix PyTorch keeps.
        weight_ih, weight_hh, bias_ih, bias_hh = lstm_parameters(self.lstm)
        for stacked in (weight_ih, weight_hh):
            for gate in stacked.chunk(4, dim=0):
                bound = math.sqrt(6.0 / (gate.shape[0] + gate.shape[1]))
                gate.uniform_(-bound, bound)
        nn.init.zeros_(bias_ih)
        nn.init.zeros_(bias_hh)  # forget bias 0, not 1
        nn.init.xavier_uniform_(self.dense0.weight)
        nn.init.zeros_(self.dense0.bias)
        nn.init.xavier_uniform_(self.dense1.weight)
        self.bn.reset_parameters()
        self.bn.reset_running_stats()

    def forward(
        self,
        rows: torch.Tensor,
        state: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """rows (B, T·pw, F) → logits (B, T, C) and the LSTM state (h, c), each (1, B, 200)."""
        x = self.conv(rows.transpose(1, 2))  # (B, 64, T)
        x = torch.relu(x).transpose(1, 2)  # (B, T, 64)
        x = self.conv_dropout(x)
        x, state = self.lstm(x, state)  # (B, T, 200)
        x = self.dense0(x)  # (B, T, 128)
        batch, steps, channels = x.shape
        x = self.bn(x.reshape(batch * steps, channels)).reshape(batch, steps, channels)
        x = self.dense_dropout(torch.relu(x))
        return self.dense1(x), state  # (B, T, C)


def tensor(value: torch.Tensor | nn.Module | None) -> torch.Tensor:
    """A parameter or buffer that this network always has (torch types them loosely)."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"expected a tensor, got {type(value).__name__}")
    return value


def lstm_parameters(lstm: nn.LSTM) -> tuple[torch.Tensor, ...]:
    """(weight_ih (800, in), weight_hh (800, 200), bias_ih (800,), bias_hh (800,)), gates
    stacked i, f, g, o."""
    names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    return tuple(tensor(getattr(lstm, name)) for name in names)
