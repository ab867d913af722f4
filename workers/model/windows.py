"""Sessions → chunks of 20 windows, the unit the network trains and predicts on (spec §1.2).

Each session is cut from its first row into chunks of 20·pw rows; the tail of the last chunk
is zero padding. Window k of a chunk covers rows [k·pw, (k+1)·pw). A window with at least one
real row gets weight 1 and the majority class of its rows (ties → lowest class index);
padding windows get weight 0 and label 0. Everything is vectorised over rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workers.model.shape import WINDOWS_PER_CHUNK
from workers.motion_data import MotionData, MotionDataError


@dataclass(frozen=True, eq=False)
class Chunks:
    """The chunk grid of one MotionData: K chunks of WINDOWS_PER_CHUNK windows of pw rows."""

    prediction_window: int
    features: np.ndarray  # (K, 20·pw, F) float32; rows past a session's end are 0
    window_rows: np.ndarray  # (K, 20) real rows in each window, 0 for padding windows
    session_index: np.ndarray  # (K,) session (0-based, in data order) the chunk belongs to
    chunk_index: np.ndarray  # (K,) chunk position inside its session (TC's prediction_id)
    first_row: np.ndarray  # (K,) input row of the chunk's first row
    row_window: np.ndarray  # (N,) flat window index (chunk·20 + k) of every input row
    labels: np.ndarray | None = None  # (K, 20) int64 majority class, 0 for padding
    class_counts: np.ndarray | None = None  # (K, 20, C) int64 rows of each class per window

    @property
    def num_chunks(self) -> int:
        return len(self.features)

    @property
    def weights(self) -> np.ndarray:
        """(K, 20) float32 loss weight: 1 for a window with a real row, else 0."""
        return (self.window_rows > 0).astype(np.float32)


def class_list(targets: np.ndarray) -> list:
    """Sorted distinct labels as plain Python values (ints stay ints)."""
    _, values = _runs(targets)
    return np.unique(values).tolist()


def encode_labels(targets: np.ndarray, classes: list, *, column: str | None = None) -> np.ndarray:
    """(N,) int64 index of each label in `classes`; a label not in `classes` is an error."""
    class_array = np.asarray(classes)
    if (targets.dtype.kind in "iu") != (class_array.dtype.kind in "iu"):
        raise MotionDataError(
            f"target column {column!r} holds {targets.dtype} labels but the model's classes are "
            f"{classes[:5]}; use the same label type as the training data"
        )
    starts, values = _runs(targets)
    index = np.searchsorted(class_array, values)  # classes are sorted
    clipped = np.minimum(index, len(class_array) - 1)
    unknown = np.flatnonzero(class_array[clipped] != values)
    if len(unknown):
        row = int(starts[unknown[0]])
        raise MotionDataError(
            f"cannot use data with unexpected class label {targets[row].item()!r} "
            f"(column {column!r}, row {row}); the model knows only {classes}"
        )
    return np.repeat(index.astype(np.int64), np.diff(starts, append=len(targets)))


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first row, value) of each run of equal values: labels come a session at a time, so
    sorting or searching the runs (not 1,000,000 rows of strings) gives the same answer."""
    starts = np.flatnonzero(values[1:] != values[:-1]) + 1
    starts = np.concatenate([np.zeros(min(len(values), 1), dtype=np.int64), starts])
    return starts, values[starts]


def make_chunks(
    data: MotionData,
    prediction_window: int,
    labels: np.ndarray | None = None,
    num_classes: int = 0,
) -> Chunks:
    """Cut `data` into chunks; `labels` (N,) class indices add window labels and counts."""
    pw = prediction_window
    chunk_len = WINDOWS_PER_CHUNK * pw
    starts, lengths = data.session_starts, data.session_lengths  # (S,), (S,)
    num_sessions, num_rows = len(starts), data.num_rows

    chunks_per_session = -(-lengths // chunk_len)  # ceil: a short session still gets one
    first_chunk = np.cumsum(chunks_per_session) - chunks_per_session  # (S,)
    num_chunks = int(chunks_per_session.sum())
    session_index = np.repeat(np.arange(num_sessions), chunks_per_session)  # (K,)
    chunk_index = np.arange(num_chunks) - first_chunk[session_index]  # (K,)
    offset_in_session = chunk_index * chunk_len
    rows_in_chunk = np.minimum(lengths[session_index] - offset_in_session, chunk_len)  # (K,)
    window_start = np.arange(WINDOWS_PER_CHUNK) * pw  # (20,)
    window_rows = np.clip(rows_in_chunk[:, None] - window_start, 0, pw)  # (K, 20)

    # Where each input row lands in the flat (K·20·pw) grid: its chunk, then its offset.
    row_session = np.repeat(np.arange(num_sessions), lengths)  # (N,)
    row_slot = first_chunk[row_session] * chunk_len + (np.arange(num_rows) - starts[row_session])
    grid = np.zeros((num_chunks * chunk_len, data.features.shape[1]), dtype=np.float32)
    grid[row_slot] = data.features
    row_window = row_slot // pw  # (N,)

    window_labels = counts = None
    if labels is not None:
        if num_classes < 1:
            raise ValueError("num_classes is needed with labels")
        num_windows = num_chunks * WINDOWS_PER_CHUNK
        counts = np.bincount(row_window * num_classes + labels, minlength=num_windows * num_classes)
        counts = counts.reshape(num_chunks, WINDOWS_PER_CHUNK, num_classes)  # (K, 20, C)
        window_labels = counts.argmax(axis=-1)  # first maximum: ties → lowest class index

    return Chunks(
        prediction_window=pw,
        features=grid.reshape(num_chunks, chunk_len, -1),
        window_rows=window_rows,
        session_index=session_index,
        chunk_index=chunk_index,
        first_row=starts[session_index] + offset_in_session,
        row_window=row_window,
        labels=window_labels,
        class_counts=counts,
    )


def window_table(data: MotionData, chunks: Chunks) -> dict[str, np.ndarray]:
    """One entry per window with a real row, in input order: ids, positions and row counts."""
    real = chunks.window_rows > 0  # (K, 20)
    chunk_of_window, k = np.nonzero(real)  # row-major: chunk order, then window order
    first_row = chunks.first_row[chunk_of_window] + k * chunks.prediction_window
    return {
        "session_id": data.session_ids[first_row],
        "window": chunks.chunk_index[chunk_of_window] * WINDOWS_PER_CHUNK + k,
        "prediction_id": chunks.chunk_index[chunk_of_window],
        "first_row": first_row,
        "num_rows": chunks.window_rows[chunk_of_window, k],
    }


def real_window_index(chunks: Chunks) -> np.ndarray:
    """(N,) index of each input row's window among the real windows of window_table."""
    real = (chunks.window_rows > 0).ravel()  # (K·20,)
    compact = np.cumsum(real) - 1
    return compact[chunks.row_window]


def real_windows(probabilities: np.ndarray, chunks: Chunks) -> np.ndarray:
    """(K, 20, C) probabilities of every window slot → (W, C) of the windows holding a real
    row, in input order (window_table's order)."""
    return probabilities[chunks.window_rows > 0]


def per_row(probabilities: np.ndarray, chunks: Chunks) -> np.ndarray:
    """(K, 20, C) probabilities → (N, C), each input row taking its window's vector (spec §3.3)."""
    flat = probabilities.reshape(-1, probabilities.shape[-1])  # (K·20, C)
    return flat[chunks.row_window]
