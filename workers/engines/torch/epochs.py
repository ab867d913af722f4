"""One epoch of training or evaluation over chunks on the training device, for each recipe."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from workers.engines.torch.augment import ChunkAugmentation
from workers.engines.torch.model import ActivityNet
from workers.engines.torch.optim import KerasAdam
from workers.engines.torch.recipes import Recipe
from workers.model.hyperparameters import BATCH_PROGRESS_INTERVAL_S
from workers.model.shape import WINDOWS_PER_CHUNK
from workers.model.windows import Chunks

# Validation runs in eval mode, where batch size does not change results: use big batches.
VALIDATION_BATCH_ROWS = 1 << 19


class TrainingCanceled(Exception):
    """should_stop() asked training to stop; raised between batches."""


# (iteration, batches done, batches in the epoch, mean window CE so far or None)
OnBatch = Callable[[int, int, int, float | None], None]


class Batch(NamedTuple):
    rows: torch.Tensor  # (B, 20·pw, F)
    labels: torch.Tensor  # (B, 20) int64
    weights: torch.Tensor  # (B, 20) float32
    class_counts: torch.Tensor  # (B, 20, C) float32 rows of each class per window


@dataclass(frozen=True)
class DeviceChunks:
    """A Chunks' arrays as tensors on the training device, built once, sliced per batch."""

    tensors: Batch  # every chunk; on CPU these share memory with the Chunks arrays
    num_rows: int  # real rows, the denominator of per-row accuracy
    total_weight: float  # real windows

    @classmethod
    def build(cls, chunks: Chunks, device: str) -> DeviceChunks:
        assert chunks.labels is not None and chunks.class_counts is not None
        weights = chunks.weights
        tensors = Batch(
            torch.from_numpy(chunks.features),
            torch.from_numpy(chunks.labels),
            torch.from_numpy(weights),
            torch.from_numpy(chunks.class_counts.astype(np.float32)),
        )
        return cls(
            tensors=Batch(*(t.to(device) for t in tensors)),
            num_rows=int(chunks.window_rows.sum()),
            total_weight=float(weights.sum()),
        )

    @property
    def num_chunks(self) -> int:
        return len(self.tensors.rows)

    def batches(
        self, batch_size: int, *, full: bool, order: torch.Tensor | None = None
    ) -> Iterator[Batch]:
        """Batches in chunk order (or `order`); full=True pads the last with zero chunks."""
        for start in range(0, self.num_chunks, batch_size):
            if order is None:
                batch = Batch(*(t[start : start + batch_size] for t in self.tensors))
            else:
                picked = order[start : start + batch_size]
                batch = Batch(*(t[picked] for t in self.tensors))
            missing = batch_size - len(batch.rows)
            if full and missing > 0:  # weight-0 chunks that still pass through BatchNorm
                batch = Batch(
                    *(torch.cat([t, t.new_zeros((missing, *t.shape[1:]))]) for t in batch)
                )
            yield batch


@dataclass
class EpochContext:
    """What an epoch needs beyond the data: optimiser, recipe, schedule, randomness."""

    net: ActivityNet
    optimizer: KerasAdam
    recipe: Recipe
    batch_size: int
    total_steps: int  # optimiser steps over the whole training, for the schedule
    generator: torch.Generator  # shuffling and augmentation, on the training device
    should_stop: Callable[[], bool] | None
    on_batch: OnBatch | None = None  # called about every BATCH_PROGRESS_INTERVAL_S
    augmentation: ChunkAugmentation | None = None  # per-batch augmentation (recipe.augment)
    mixup_rng: np.random.Generator | None = None  # λ of mixup (recipe.mixup_alpha)
    steps_done: int = 0
    next_batch_report_at: float = field(  # time.monotonic() of the next on_batch call
        default_factory=lambda: time.monotonic() + BATCH_PROGRESS_INTERVAL_S
    )


def train_epoch(context: EpochContext, chunks: DeviceChunks, iteration: int) -> tuple[float, float]:
    """One pass over all chunks; returns (per-row train accuracy, mean window CE)."""
    net, recipe = context.net, context.recipe
    correct = chunks.tensors.weights.new_zeros(())
    loss_sum = chunks.tensors.weights.new_zeros(())
    weight_sum = chunks.tensors.weights.new_zeros(())  # real windows of the batches done
    batches_total = steps_per_epoch(chunks.num_chunks, context.batch_size)
    order = None
    if recipe.shuffle:
        device = chunks.tensors.rows.device
        order = torch.randperm(chunks.num_chunks, generator=context.generator, device=device)
    batches = chunks.batches(context.batch_size, full=recipe.pad_batches, order=order)
    for number, batch in enumerate(batches):
        if context.should_stop is not None and context.should_stop():
            raise TrainingCanceled(f"canceled at iteration {iteration}, batch {number}")
        if not recipe.pad_batches:
            batch = _without_trailing_padding(batch)
        net.train()
        rows = batch.rows
        if context.augmentation is not None:
            rows = context.augmentation(rows, context.generator)
        if context.mixup_rng is not None:
            rows, window_loss, logits = _mixup_step(context, rows, batch)
        else:
            logits, _ = net(rows)  # (B, 20, C)
            window_loss = batch.weights * window_cross_entropy(
                logits, batch.labels, recipe.label_smoothing
            )  # (B, 20)
        if recipe.pad_batches:  # Turi Create: Keras SUM_OVER_BATCH_SIZE over padded batches
            loss = window_loss.sum() / (context.batch_size * WINDOWS_PER_CHUNK)
        else:  # mean over the real windows of the batch
            loss = window_loss.sum() / batch.weights.sum().clamp(min=1.0)
        context.optimizer.lr = recipe.learning_rate_at(context.steps_done, context.total_steps)
        context.optimizer.zero_grad()
        loss.backward()
        context.optimizer.step()
        context.steps_done += 1
        loss_sum += window_loss.detach().sum()
        weight_sum += batch.weights.sum()
        if context.on_batch is not None and time.monotonic() >= context.next_batch_report_at:
            so_far = (loss_sum / weight_sum.clamp(min=1.0)).item()
            context.on_batch(iteration, number + 1, batches_total, so_far)
            context.next_batch_report_at = time.monotonic() + BATCH_PROGRESS_INTERVAL_S

        if recipe.eval_train_accuracy:  # Turi Create's train accuracy: updated net, eval mode
            net.eval()
            with torch.no_grad():
                logits, _ = net(batch.rows)  # (B, 20, C)
        correct += correct_rows(logits.detach(), batch.class_counts)
    net.train()
    return correct.item() / chunks.num_rows, loss_sum.item() / chunks.total_weight


def _mixup_step(
    context: EpochContext, rows: torch.Tensor, batch: Batch
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each chunk mixed with another of the batch: rows λ·a + (1-λ)·b, loss λ·CE(a) +
    (1-λ)·CE(b) per window, weights mixed the same way."""
    assert context.mixup_rng is not None
    alpha = context.recipe.mixup_alpha
    size = len(rows)
    lam_np = context.mixup_rng.beta(alpha, alpha, size).astype(np.float32)
    lam = torch.from_numpy(lam_np).to(rows.device)  # (B,)
    partner = torch.randperm(size, generator=context.generator, device=rows.device)
    mixed = lam[:, None, None] * rows + (1 - lam[:, None, None]) * rows[partner]
    logits, _ = context.net(mixed)  # (B, 20, C)
    smoothing = context.recipe.label_smoothing
    own = batch.weights * window_cross_entropy(logits, batch.labels, smoothing)
    other = batch.weights[partner] * window_cross_entropy(logits, batch.labels[partner], smoothing)
    window_loss = lam[:, None] * own + (1 - lam[:, None]) * other  # (B, 20)
    return mixed, window_loss, logits


def _without_trailing_padding(batch: Batch) -> Batch:
    """The batch cut after its last real window. The LSTM is causal and padding windows
    weigh 0, so only BatchNorm's batch statistics change (no longer diluted by padding); the
    LSTM runs fewer steps. Short sessions (one chunk, half padding) train up to 2x faster."""
    real_steps = int((batch.weights > 0).any(dim=0).nonzero().max()) + 1  # windows in use
    real_steps = max(real_steps, 2)  # BatchNorm needs 2 values per channel in training
    if real_steps == batch.weights.shape[1]:
        return batch
    window = batch.rows.shape[1] // batch.weights.shape[1]
    return Batch(
        batch.rows[:, : real_steps * window],
        batch.labels[:, :real_steps],
        batch.weights[:, :real_steps],
        batch.class_counts[:, :real_steps],
    )


def steps_per_epoch(num_chunks: int, batch_size: int) -> int:
    return -(-num_chunks // batch_size)


def evaluate_epoch(net: ActivityNet, chunks: DeviceChunks) -> tuple[float, float]:
    """(per-row accuracy, mean window CE) in eval mode."""
    batch_size = max(1, VALIDATION_BATCH_ROWS // chunks.tensors.rows.shape[1])
    correct = chunks.tensors.weights.new_zeros(())
    loss_sum = chunks.tensors.weights.new_zeros(())
    net.eval()
    with torch.no_grad():
        for batch in chunks.batches(batch_size, full=False):
            logits, _ = net(batch.rows)  # (b, 20, C)
            loss_sum += (batch.weights * window_cross_entropy(logits, batch.labels)).sum()
            correct += correct_rows(logits, batch.class_counts)
    net.train()
    return correct.item() / chunks.num_rows, loss_sum.item() / chunks.total_weight


def window_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, label_smoothing: float = 0.0
) -> torch.Tensor:
    """(B, 20, C) logits, (B, 20) labels → (B, 20) cross-entropy per window."""
    flat = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]),
        labels.reshape(-1),
        reduction="none",
        label_smoothing=label_smoothing,
    )
    return flat.view_as(labels)


def correct_rows(logits: torch.Tensor, class_counts: torch.Tensor) -> torch.Tensor:
    """Rows whose own label equals their window's argmax: counts[window, predicted class]."""
    predicted = logits.argmax(dim=-1, keepdim=True)  # (B, 20, 1)
    return class_counts.gather(-1, predicted).sum()
