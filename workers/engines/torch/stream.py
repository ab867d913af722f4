"""One streaming step of the network, the way an iOS app drives the exported Core ML model.

The app (spec §4.5) feeds one window of `prediction_window` rows at a time, with `stateIn`
zero at the start of a session and the previous `stateOut` afterwards. Unlike batch predict,
the state is never reset every 20 windows, so this is the reference the exported model must
reproduce window for window.
"""

from __future__ import annotations

import numpy as np
import torch

from workers.engines.torch.model import ActivityNet
from workers.model.shape import LSTM_HIDDEN, STATE_SIZE


def stream_step(
    net: ActivityNet, window_rows: np.ndarray, state: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One window (pw, F) and state [h, c] (400,) → class probabilities (C,), new state (400,).

    Runs in inference mode (dropout off, BatchNorm on its running statistics) and restores
    the module's previous train/eval mode afterwards, so a caller mid-training is unaffected.
    """
    window_rows = np.asarray(window_rows)
    state = np.asarray(state)
    num_features = net.conv.in_channels
    if window_rows.shape != (net.prediction_window, num_features):
        raise ValueError(
            f"window_rows has shape {window_rows.shape}; expected "
            f"({net.prediction_window}, {num_features}) = (prediction_window, features)"
        )
    if state.shape != (STATE_SIZE,):
        raise ValueError(f"state has shape {state.shape}; expected ({STATE_SIZE},) = [h, c]")
    probabilities, states = stream_steps(net, window_rows[None], state[None])
    return probabilities[0], states[0]


def stream_steps(
    net: ActivityNet, windows: np.ndarray, states: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """B independent streams one window each: windows (B, pw, F), states (B, 400) → class
    probabilities (B, C), new states (B, 400). Eval-mode BatchNorm treats each stream alone,
    so batching streams (live classification does) changes no stream's numbers."""
    parameter = next(net.parameters())

    def as_tensor(array: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(array, dtype=parameter.dtype, device=parameter.device)

    rows = as_tensor(windows)  # (B, pw, F): one time step of the LSTM each
    hidden = as_tensor(states[:, :LSTM_HIDDEN]).unsqueeze(0)  # (layers, B, 200)
    cell = as_tensor(states[:, LSTM_HIDDEN:]).unsqueeze(0)  # (layers, B, 200)

    was_training = net.training
    if was_training:  # a served model is in eval mode already: toggling costs ~0.1 ms
        net.eval()
    try:
        with torch.inference_mode():
            logits, (hidden, cell) = net(rows, (hidden, cell))  # (B, 1, C), 2 × (1, B, 200)
    finally:
        if was_training:
            net.train()

    probabilities = torch.softmax(logits[:, 0].double(), dim=-1)  # (B, C)
    new_states = torch.cat([hidden[0], cell[0]], dim=1).double()  # (B, 400)
    return probabilities.cpu().numpy(), new_states.cpu().numpy()
