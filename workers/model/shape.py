"""The activity classifier's architecture (spec §2.1): the sizes every engine and export share.

The torch network (workers/engines/torch/model.py) is built from these; the Core ML, ML
Program and ONNX files carry the same layers, and live streams keep STATE_SIZE per stream.
"""

from core.recipes import CHUNK_WINDOWS

CONV_CHANNELS = 64
LSTM_HIDDEN = 200
DENSE_HIDDEN = 128
# Turi Create's NUM_PREDICTIONS_PER_CHUNK: the LSTM sees 20 windows (core.recipes counts with it).
WINDOWS_PER_CHUNK = CHUNK_WINDOWS
STATE_SIZE = 2 * LSTM_HIDDEN  # Core ML stateIn / stateOut: hidden then cell
