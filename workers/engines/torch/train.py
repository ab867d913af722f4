"""Training loop of Turi Create 6.4's activity classifier (spec §2), in PyTorch.

Fixed chunk order, no shuffling; every batch is padded to `batch_size` chunks with zero
chunks of weight 0 (they still move BatchNorm's statistics, as in Turi Create). After each
update the same batch runs again in eval mode to count correctly classified rows, which is
how Turi Create's "Train Accuracy" is defined.

Deliberate differences from Turi Create, all documented here:
* Losses. Turi Create reports the train loss as (batch loss / real chunks in the batch)
  averaged over batches, and the validation loss as summed window cross-entropy per chunk:
  two different scales, one of them depending on batch_size. Both are reported here as the
  mean cross-entropy per real window (training-mode passes for train_loss, eval mode for
  validation_loss), so the two curves can be compared. The optimised loss itself is Turi
  Create's: Σ(w·CE) / (batch_size·20).
* The 'auto' validation split draws its own random numbers: see validation.py.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from workers.engines.torch import predict
from workers.engines.torch.classifier import ActivityClassifier
from workers.engines.torch.model import WINDOWS_PER_CHUNK, ActivityNet
from workers.engines.torch.optim import KerasAdam
from workers.engines.torch.params import Hyperparameters, IterationReport
from workers.engines.torch.validation import split_validation
from workers.engines.torch.windows import Chunks, class_list, encode_labels, make_chunks
from workers.metrics import classification_metrics
from workers.motion_data import MotionData, MotionDataError

logger = logging.getLogger(__name__)
# log=None: a logger outside the logging registry, so no logging config can re-enable it.
_SILENT = logging.Logger(f"{__name__}.silent", level=logging.CRITICAL + 1)

# Validation runs in eval mode, where batch size does not change results: use big batches.
VALIDATION_BATCH_ROWS = 1 << 19


class TrainingCanceled(Exception):
    """should_stop() asked training to stop; raised between batches."""


def train(
    data: MotionData,
    params: Hyperparameters,
    *,
    validation: MotionData | str | None = "auto",
    on_iteration: Callable[[IterationReport], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    device: str | None = None,
    log: logging.Logger | None = logger,
) -> ActivityClassifier:
    """Train on `data` (targets required) and return the classifier with its final metrics.

    validation: "auto" (Turi Create's session split), None, or labelled MotionData.
    on_iteration gets one IterationReport per epoch; should_stop is polled before each batch.
    device: "cuda" / "cpu" / None (CUDA when available). log=None trains silently.
    """
    started = time.perf_counter()
    log = log if log is not None else _SILENT
    params = params.with_seed()
    seed = params.random_seed
    assert seed is not None
    if data.targets is None:
        raise MotionDataError("training data needs a target column")

    train_data, validation_data = split_validation(data, validation, seed, log)
    classes = class_list(train_data.labels)
    train_chunks = _labelled_chunks(train_data, classes, params.prediction_window)
    validation_chunks = None
    if validation_data is not None:
        validation_data = validation_data.with_features(train_data.feature_names)
        validation_chunks = _labelled_chunks(validation_data, classes, params.prediction_window)

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    chunk_rows = WINDOWS_PER_CHUNK * params.prediction_window
    log.info(
        "training started rows=%d sessions=%d chunk_rows=%d chunks=%d classes=%d "
        "validation_sessions=%s device=%s seed=%d",
        train_data.num_rows,
        train_data.num_sessions,
        chunk_rows,
        train_chunks.num_chunks,
        len(classes),
        validation_data.num_sessions if validation_data is not None else None,
        device,
        seed,
    )

    with _seeded(seed, device):
        net = ActivityNet(
            num_features=len(train_data.feature_names),
            num_classes=len(classes),
            prediction_window=params.prediction_window,
        ).to(device)
        optimizer = KerasAdam(net.parameters(), lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
        batches = _DeviceChunks.build(train_chunks, device)
        held_out = (
            None if validation_chunks is None else _DeviceChunks.build(validation_chunks, device)
        )
        progress = []
        for iteration in range(1, params.max_iterations + 1):
            train_accuracy, train_loss = _train_epoch(
                net, optimizer, batches, params.batch_size, should_stop, iteration
            )
            validation_accuracy = validation_loss = None
            if held_out is not None:
                validation_accuracy, validation_loss = _evaluate_epoch(net, held_out)
            report = IterationReport(
                iteration=iteration,
                train_accuracy=train_accuracy,
                validation_accuracy=validation_accuracy,
                train_loss=train_loss,
                validation_loss=validation_loss,
                elapsed_s=time.perf_counter() - started,
            )
            progress.append(report)
            log.info(
                "iteration=%d train_accuracy=%.4f validation_accuracy=%s train_loss=%.4f "
                "validation_loss=%s elapsed_s=%.2f",
                iteration,
                train_accuracy,
                _format(validation_accuracy),
                train_loss,
                _format(validation_loss),
                report.elapsed_s,
            )
            if on_iteration is not None:
                on_iteration(report)

    # Finalisation (spec §2.4): evaluation-style per-row metrics overwrite the table's numbers.
    training_metrics = _final_metrics(net, train_data, train_chunks, classes)
    validation_metrics = None
    if validation_data is not None and validation_chunks is not None:
        validation_metrics = _final_metrics(net, validation_data, validation_chunks, classes)
    training_time = time.perf_counter() - started
    log.info("training complete iterations=%d training_time_s=%.2f", len(progress), training_time)
    return ActivityClassifier(
        net=net.cpu(),
        classes=classes,
        features=train_data.feature_names,
        target=train_data.target_column or "target",
        session_id=train_data.session_column,
        params=params,
        num_sessions=train_data.num_sessions,
        num_examples=train_data.num_rows,
        training_time=training_time,
        training_metrics=training_metrics,
        validation_metrics=validation_metrics,
        progress=progress,
    )


def _labelled_chunks(data: MotionData, classes: list, prediction_window: int) -> Chunks:
    labels = encode_labels(data.labels, classes, column=data.target_column)
    return make_chunks(data, prediction_window, labels, len(classes))


class _Batch(NamedTuple):
    rows: torch.Tensor  # (B, 20·pw, F)
    labels: torch.Tensor  # (B, 20) int64
    weights: torch.Tensor  # (B, 20) float32
    class_counts: torch.Tensor  # (B, 20, C) float32 rows of each class per window


@dataclass(frozen=True)
class _DeviceChunks:
    """A Chunks' arrays as tensors on the training device, built once, sliced per batch."""

    tensors: _Batch  # every chunk; on CPU these share memory with the Chunks arrays
    num_rows: int  # real rows, the denominator of per-row accuracy
    total_weight: float  # real windows

    @classmethod
    def build(cls, chunks: Chunks, device: str) -> _DeviceChunks:
        assert chunks.labels is not None and chunks.class_counts is not None
        weights = chunks.weights
        tensors = _Batch(
            torch.from_numpy(chunks.features),
            torch.from_numpy(chunks.labels),
            torch.from_numpy(weights),
            torch.from_numpy(chunks.class_counts.astype(np.float32)),
        )
        return cls(
            tensors=_Batch(*(t.to(device) for t in tensors)),
            num_rows=int(chunks.window_rows.sum()),
            total_weight=float(weights.sum()),
        )

    def batches(self, batch_size: int, *, full: bool) -> Iterator[_Batch]:
        """Consecutive batches in chunk order; full=True pads the last with zero chunks."""
        num_chunks = len(self.tensors.rows)
        for start in range(0, num_chunks, batch_size):
            batch = _Batch(*(t[start : start + batch_size] for t in self.tensors))
            missing = batch_size - len(batch.rows)
            if full and missing > 0:  # weight-0 chunks that still pass through BatchNorm
                batch = _Batch(
                    *(torch.cat([t, t.new_zeros((missing, *t.shape[1:]))]) for t in batch)
                )
            yield batch


def _train_epoch(
    net: ActivityNet,
    optimizer: KerasAdam,
    chunks: _DeviceChunks,
    batch_size: int,
    should_stop: Callable[[], bool] | None,
    iteration: int,
) -> tuple[float, float]:
    """One pass over all chunks; returns (per-row train accuracy, mean window CE)."""
    correct = chunks.tensors.weights.new_zeros(())
    loss_sum = chunks.tensors.weights.new_zeros(())
    for number, batch in enumerate(chunks.batches(batch_size, full=True)):
        if should_stop is not None and should_stop():
            raise TrainingCanceled(f"canceled at iteration {iteration}, batch {number}")
        net.train()
        logits, _ = net(batch.rows)  # (B, 20, C)
        window_loss = batch.weights * _window_cross_entropy(logits, batch.labels)  # (B, 20)
        loss = window_loss.sum() / (batch_size * WINDOWS_PER_CHUNK)  # Keras SUM_OVER_BATCH_SIZE
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_sum += window_loss.detach().sum()

        net.eval()  # Turi Create's train accuracy: the updated net, inference mode
        with torch.no_grad():
            eval_logits, _ = net(batch.rows)  # (B, 20, C)
            correct += _correct_rows(eval_logits, batch.class_counts)
    net.train()
    return correct.item() / chunks.num_rows, loss_sum.item() / chunks.total_weight


def _evaluate_epoch(net: ActivityNet, chunks: _DeviceChunks) -> tuple[float, float]:
    """(per-row accuracy, mean window CE) in eval mode."""
    batch_size = max(1, VALIDATION_BATCH_ROWS // chunks.tensors.rows.shape[1])
    correct = chunks.tensors.weights.new_zeros(())
    loss_sum = chunks.tensors.weights.new_zeros(())
    net.eval()
    with torch.no_grad():
        for batch in chunks.batches(batch_size, full=False):
            logits, _ = net(batch.rows)  # (b, 20, C)
            loss_sum += (batch.weights * _window_cross_entropy(logits, batch.labels)).sum()
            correct += _correct_rows(logits, batch.class_counts)
    net.train()
    return correct.item() / chunks.num_rows, loss_sum.item() / chunks.total_weight


def _window_cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """(B, 20, C) logits, (B, 20) labels → (B, 20) cross-entropy per window."""
    flat = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), reduction="none"
    )
    return flat.view_as(labels)


def _correct_rows(logits: torch.Tensor, class_counts: torch.Tensor) -> torch.Tensor:
    """Rows whose own label equals their window's argmax: counts[window, predicted class]."""
    predicted = logits.argmax(dim=-1, keepdim=True)  # (B, 20, 1)
    return class_counts.gather(-1, predicted).sum()


def _final_metrics(net: ActivityNet, data: MotionData, chunks: Chunks, classes: list) -> dict:
    probabilities = predict.per_row(predict.window_probabilities(net, chunks), chunks)
    return classification_metrics(data.labels, probabilities, classes)


@contextlib.contextmanager
def _seeded(seed: int, device: str) -> Iterator[None]:
    """Seed torch for init and dropout without disturbing the caller's global RNG state."""
    devices = [torch.device(device).index or 0] if torch.device(device).type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def _format(value: float | None) -> str:
    return "none" if value is None else f"{value:.4f}"
