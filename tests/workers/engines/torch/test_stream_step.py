"""stream_step: one window with an explicit [h, c] state, as an app drives the Core ML model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from workers.engines.torch.model import ActivityNet
from workers.engines.torch.stream import stream_step, stream_steps

pytestmark = pytest.mark.unit


def _net() -> ActivityNet:
    torch.manual_seed(0)
    return ActivityNet(num_features=2, num_classes=3, prediction_window=5)


def test_two_steps_with_carried_state_equal_one_two_window_forward_pass():
    net = _net().train()  # a caller mid-training: stream_step must still use eval mode
    rows = np.random.default_rng(0).normal(size=(10, 2)).astype(np.float32)  # 2 windows

    first, state = stream_step(net, rows[:5], np.zeros(400))
    second, state = stream_step(net, rows[5:], state)

    assert net.training  # mode restored
    net.eval()
    with torch.no_grad():
        logits, (hidden, cell) = net(torch.from_numpy(rows)[None])  # (1, 2, 3)
    expected = torch.softmax(logits[0].double(), dim=-1).numpy()
    np.testing.assert_allclose(np.stack([first, second]), expected, atol=1e-6)
    np.testing.assert_allclose(state, torch.cat([hidden.ravel(), cell.ravel()]).numpy(), atol=1e-6)
    assert first.sum() == pytest.approx(1.0)


def test_stream_step_rejects_a_window_or_state_of_the_wrong_shape():
    net = _net()
    with pytest.raises(ValueError, match=r"expected \(5, 2\)"):
        stream_step(net, np.zeros((4, 2)), np.zeros(400))
    with pytest.raises(ValueError, match=r"expected \(400,\)"):
        stream_step(net, np.zeros((5, 2)), np.zeros(200))


def test_streams_stepped_together_each_get_what_they_get_alone():
    net = _net().eval()
    rng = np.random.default_rng(1)
    windows = rng.normal(size=(7, 5, 2))  # 7 streams, one window each
    states = rng.normal(scale=0.5, size=(7, 400))

    together, new_states = stream_steps(net, windows, states)

    for stream, (window, state) in enumerate(zip(windows, states, strict=True)):
        alone, alone_state = stream_step(net, window, state)
        np.testing.assert_allclose(together[stream], alone, atol=1e-6)
        np.testing.assert_allclose(new_states[stream], alone_state, atol=1e-6)
    assert not np.allclose(together[0], together[1])  # the streams did differ
