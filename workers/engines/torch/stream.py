"""One streaming step of the network, the way an iOS app drives the exported Core ML model.

The app (spec §4.5) feeds one window of `prediction_window` rows at a time, with `stateIn`
zero at the start of a session and the previous `stateOut` afterwards. Unlike batch predict,
the state is never reset every 20 windows, so this is the reference the exported model must
reproduce window for window.
"""

from __future__ import annotations

import numpy as np
import torch

from workers.engines.torch.model import LSTM_HIDDEN, STATE_SIZE, ActivityNet


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

    parameter = next(net.parameters())

    def as_tensor(array: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(array, dtype=parameter.dtype, device=parameter.device)

    rows = as_tensor(window_rows).unsqueeze(0)  # (1, pw, F)
    hidden = as_tensor(state[:LSTM_HIDDEN]).reshape(1, 1, LSTM_HIDDEN)  # (layers, B, 200)
    cell = as_tensor(state[LSTM_HIDDEN:]).reshape(1, 1, LSTM_HIDDEN)  # (layers, B, 200)

    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            logits, (hidden, cell) = net(rows, (hidden, cell))  # (1, 1, C), 2 × (1, 1, 200)
    finally:
        net.train(was_training)

    probabilities = torch.softmax(logits[0, 0].double(), dim=-1)  # (C,)
    new_state = torch.cat([hidden.reshape(-1), cell.reshape(-1)]).double()  # (400,)
    return probabilities.cpu().numpy(), new_state.cpu().numpy()
