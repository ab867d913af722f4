"""An exported `.mlmodel`'s network stepped window by window in NumPy: the loop an iOS app
runs. It serves the runs whose own engine cannot predict in this process (Turi Create's model
predicts in its own Python 3.8 process, about a second a call): live streams, and predict /
evaluate / the run's metrics over whole chunk grids (`window_probabilities`), equal to Turi
Create's own predictions within 1e-4 (tests/workers/engines/turicreate).

The arithmetic is Core ML's layer by layer (spec §4.2, interface.py's layer_plan): convolution
over the whole window, ReLU, one LSTM step (Core ML's gate order: input, forget, block input,
output), dense, batch norm, ReLU, dense, softmax — in float64 on the file's float32 weights,
batched over independent streams.

Production code, not a test oracle: live streams of Turi Create runs classify with it. It
steps the weights network.py reads; it shares no code with tests/support/oracles, which
evaluate the file's protobuf layers independently.
"""

from __future__ import annotations

import numpy as np

from workers.exports.coreml.network import ActivityNetwork
from workers.model.shape import CONV_CHANNELS, LSTM_HIDDEN, WINDOWS_PER_CHUNK
from workers.model.windows import Chunks

# Chunks computed together: their (B·20, 800) float64 gates stay about 33 MB.
CHUNKS_PER_STEP = 256


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-values))


class NetworkStreamer:
    """Steps the network of an activity-classifier `.mlmodel` (a live.Streamer)."""

    def __init__(self, network: ActivityNetwork):
        self.network = network
        self.classes: list = list(network.classes)
        self.features: list[str] = list(network.features)
        f64 = np.float64
        # (pw·F, 64): a window's rows (pw, F) flattened row by row, times the kernel (64, F, pw)
        conv = network.conv_weight.astype(f64)
        self._conv_flat = conv.transpose(2, 1, 0).reshape(-1, CONV_CHANNELS)
        self._conv_bias = network.conv_bias.astype(f64)
        self._lstm_input = network.lstm_input_weight.astype(f64).T  # (64, 800)
        self._lstm_recurrent = network.lstm_recurrent_weight.astype(f64).T  # (200, 800)
        self._lstm_bias = network.lstm_bias.astype(f64)
        self._dense0 = network.dense0_weight.astype(f64).T  # (200, 128)
        self._dense0_bias = network.dense0_bias.astype(f64)
        scale = network.bn_gamma.astype(f64) / np.sqrt(
            network.bn_variance.astype(f64) + network.bn_epsilon
        )
        self._bn_scale = scale
        self._bn_shift = network.bn_beta.astype(f64) - network.bn_mean.astype(f64) * scale
        self._dense1 = network.dense1_weight.astype(f64).T  # (128, C)

    @property
    def prediction_window(self) -> int:
        return self.network.prediction_window

    def step_many(self, windows: np.ndarray, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, pw, F) windows and (B, 400) states [h, c] → (B, C) probabilities, new states."""
        conv = windows.reshape(len(windows), -1) @ self._conv_flat + self._conv_bias  # (B, 64)
        hidden, cell = states[:, :LSTM_HIDDEN], states[:, LSTM_HIDDEN:]
        gates = np.maximum(conv, 0.0) @ self._lstm_input + hidden @ self._lstm_recurrent
        hidden, cell = self._lstm_step(gates + self._lstm_bias, cell)
        return self._head(hidden), np.concatenate([hidden, cell], axis=1)

    @staticmethod
    def _lstm_step(gates: np.ndarray, cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, 800) gates (input, forget, block input, output), (B, 200) cell → new h, c."""
        i, f, z, o = np.split(gates, 4, axis=1)
        cell = _sigmoid(f) * cell + _sigmoid(i) * np.tanh(z)
        return _sigmoid(o) * np.tanh(cell), cell

    def _head(self, hidden: np.ndarray) -> np.ndarray:
        """(N, 200) LSTM outputs → (N, C) probabilities: dense, batch norm, ReLU, dense, softmax."""
        normalised = (hidden @ self._dense0 + self._dense0_bias) * self._bn_scale + self._bn_shift
        logits = np.maximum(normalised, 0.0) @ self._dense1  # (N, C)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def window_probabilities(self, chunks: Chunks) -> np.ndarray:
        """(K, 20, C) probabilities of every window slot, as Turi Create's batch prediction
        computes them: each chunk's 20 windows in order from a zero state.

        The arithmetic of step_many, arranged for whole chunks: the convolution, the LSTM's
        input projection and the layers after the LSTM are one matrix product each over every
        window of a block of chunks; only the recurrence steps window by window."""
        pw, num_chunks = self.prediction_window, chunks.num_chunks
        windows = chunks.features.reshape(num_chunks, WINDOWS_PER_CHUNK, pw, -1)  # (K, 20, pw, F)
        out = np.empty((num_chunks, WINDOWS_PER_CHUNK, len(self.classes)))
        for start in range(0, num_chunks, CHUNKS_PER_STEP):
            block = windows[start : start + CHUNKS_PER_STEP].astype(np.float64)  # (B, 20, pw, F)
            b = len(block)
            conv = block.reshape(b * WINDOWS_PER_CHUNK, -1) @ self._conv_flat + self._conv_bias
            inputs = np.maximum(conv, 0.0) @ self._lstm_input + self._lstm_bias  # (B·20, 800)
            inputs = inputs.reshape(b, WINDOWS_PER_CHUNK, -1)
            hidden = np.empty((b, WINDOWS_PER_CHUNK, LSTM_HIDDEN))
            h, c = np.zeros((b, LSTM_HIDDEN)), np.zeros((b, LSTM_HIDDEN))
            for k in range(WINDOWS_PER_CHUNK):
                h, c = self._lstm_step(inputs[:, k] + h @ self._lstm_recurrent, c)
                hidden[:, k] = h
            out[start : start + b] = self._head(hidden.reshape(b * WINDOWS_PER_CHUNK, -1)).reshape(
                b, WINDOWS_PER_CHUNK, -1
            )
        return out
