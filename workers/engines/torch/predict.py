"""Batch inference as Turi Create's perform_inference does it (spec §3.1).

The network runs in eval mode on whole chunks: the LSTM starts from a zero state every 20
windows, and eval-mode BatchNorm makes the result independent of how chunks are batched, so
inference uses large batches.
"""

from __future__ import annotations

import numpy as np
import torch

from workers.engines.torch.model import ActivityNet
from workers.model.windows import Chunks

# Rows per forward pass (divided into whole chunks). Past a few hundred chunks a bigger batch
# no longer speeds up the LSTM on CPU; this bounds activation memory to a few tens of MB.
INFERENCE_BATCH_ROWS = 1 << 17


def window_probabilities(net: ActivityNet, chunks: Chunks) -> np.ndarray:
    """(K, 20, C) float32 class probabilities for every window slot, padding included."""
    parameter = next(net.parameters())
    chunk_rows = chunks.features.shape[1]
    batch_chunks = max(1, INFERENCE_BATCH_ROWS // chunk_rows)
    num_classes = net.dense1.out_features
    features = torch.from_numpy(chunks.features)  # (K, 20·pw, F), shares memory
    out = np.empty((chunks.num_chunks, chunks.window_rows.shape[1], num_classes), np.float32)

    was_training = net.training
    net.eval()
    try:
        with torch.inference_mode():
            for start in range(0, chunks.num_chunks, batch_chunks):
                rows = features[start : start + batch_chunks].to(parameter.device)
                logits, _ = net(rows)  # (b, 20, C); state None = zero state per chunk
                out[start : start + batch_chunks] = torch.softmax(logits, dim=-1).cpu().numpy()
    finally:
        net.train(was_training)
    return out
