"""Training loop of the activity classifier, for each recipe (recipes.py).

The motionlab recipe (the default) trains for a budget of optimiser steps (the epochs it
buys are decided here from the data when max_iterations is left out, and recorded on the
model), standardises the features, shuffles, augments, follows a learning-rate schedule,
keeps the best validation epoch, and folds the standardisation into the first layer at the
end; epochs.py has its per-batch rules. What follows is the
turicreate recipe, Turi Create 6.4's training (spec §2), exactly:

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
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np
import torch

from core.recipes import default_max_iterations
from core.triples import sensor_triples
from workers.engines.torch import predict
from workers.engines.torch.augment import ChunkAugmentation, random_resample
from workers.engines.torch.classifier import ActivityClassifier
from workers.engines.torch.epochs import (
    DeviceChunks,
    EpochContext,
    TrainingCanceled,
    evaluate_epoch,
    steps_per_epoch,
    train_epoch,
)
from workers.engines.torch.model import ActivityNet
from workers.engines.torch.optim import KerasAdam
from workers.engines.torch.recipes import Recipe
from workers.engines.torch.recipes import recipe as recipe_named
from workers.engines.torch.standardise import Standardiser
from workers.engines.torch.validation import split_validation
from workers.model.hyperparameters import BatchProgress, Hyperparameters, IterationReport
from workers.model.shape import WINDOWS_PER_CHUNK
from workers.model.windows import Chunks, class_list, encode_labels, make_chunks, per_row

__all__ = ["TrainingCanceled", "train"]
from workers.metrics import classification_metrics
from workers.motion_data import MotionData, MotionDataError

logger = logging.getLogger(__name__)
# log=None: a logger outside the logging registry, so no logging config can re-enable it.
_SILENT = logging.Logger(f"{__name__}.silent", level=logging.CRITICAL + 1)


def train(
    data: MotionData,
    params: Hyperparameters,
    *,
    validation: MotionData | str | None = "auto",
    on_iteration: Callable[[IterationReport], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    device: str | None = None,
    log: logging.Logger | None = logger,
    on_batch: Callable[[BatchProgress], None] | None = None,
) -> ActivityClassifier:
    """Train on `data` (targets required) and return the classifier with its final metrics.

    validation: "auto" (Turi Create's session split), None, or labelled MotionData.
    on_iteration gets one IterationReport per epoch; on_batch a BatchProgress when the first
    epoch starts and then about every BATCH_PROGRESS_INTERVAL_S; should_stop is polled before
    each batch. device: "cuda" / "cpu" / None (CUDA when available). log=None trains silently.
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
    if params.max_iterations is None:  # the recipe's step budget decides
        epochs = default_max_iterations(
            params.recipe, num_chunks=train_chunks.num_chunks, batch_size=params.batch_size
        )
        params = replace(params, max_iterations=epochs)
    assert params.max_iterations is not None
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

    recipe = recipe_named(params.recipe)
    standardiser = Standardiser.fit(train_data.features) if recipe.standardise else None
    held_out = None
    if validation_chunks is not None:
        held_out = DeviceChunks.build(_standardised(validation_chunks, standardiser), device)
    with _seeded(seed, device):
        net = ActivityNet(
            num_features=len(train_data.feature_names),
            num_classes=len(classes),
            prediction_window=params.prediction_window,
        ).to(device)
        optimizer = KerasAdam(net.parameters(), lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
        generator = torch.Generator(device=device).manual_seed(seed)
        resample_rng = np.random.default_rng(seed)
        # Class indices as targets: resampling moves them with the rows, no re-encoding.
        coded = replace(train_data, targets=encode_labels(train_data.labels, classes))
        batches = DeviceChunks.build(_standardised(train_chunks, standardiser), device)

        def report_batch(iteration: int, done: int, total: int, loss: float | None) -> None:
            assert on_batch is not None
            elapsed_s = time.perf_counter() - started
            on_batch(BatchProgress(iteration, done, total, loss, elapsed_s))

        if on_batch is not None:  # the first sign of life: training starts, this many batches
            report_batch(1, 0, steps_per_epoch(train_chunks.num_chunks, params.batch_size), None)
        context = EpochContext(
            net=net,
            optimizer=optimizer,
            recipe=recipe,
            batch_size=params.batch_size,
            total_steps=params.max_iterations
            * steps_per_epoch(len(train_chunks.features), params.batch_size),
            generator=generator,
            should_stop=should_stop,
            on_batch=report_batch if on_batch is not None else None,
            augmentation=_chunk_augmentation(recipe, train_data, standardiser, device),
            mixup_rng=np.random.default_rng([seed, 1]) if recipe.mixup_alpha > 0 else None,
        )
        progress: list[IterationReport] = []
        best: tuple[float, int, dict[str, torch.Tensor]] | None = None
        for iteration in range(1, params.max_iterations + 1):
            if recipe.augment and iteration > 1:  # new window boundaries every epoch
                resampled = random_resample(
                    coded, params.prediction_window, recipe.tempo_change, resample_rng
                )
                chunks = make_chunks(
                    resampled, params.prediction_window, resampled.targets, len(classes)
                )
                batches = DeviceChunks.build(_standardised(chunks, standardiser), device)
            train_accuracy, train_loss = train_epoch(context, batches, iteration)
            validation_accuracy = validation_loss = None
            if held_out is not None:
                validation_accuracy, validation_loss = evaluate_epoch(net, held_out)
                if recipe.keep_best_epoch and (best is None or validation_loss < best[0]):
                    best = (validation_loss, iteration, _copy_state(net))
            report = IterationReport(
                iteration=iteration,
                train_accuracy=train_accuracy,
                validation_accuracy=validation_accuracy,
                train_loss=train_loss,
                validation_loss=validation_loss,
                elapsed_s=time.perf_counter() - started,
            )
            progress.append(report)
            # A run's worker logs each iteration once, with its run id (workers/execute.py).
            log.debug(
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

    if best is not None:
        net.load_state_dict(best[2])
        log.info("kept iteration=%d validation_loss=%.4f (the lowest)", best[1], best[0])
    if standardiser is not None:
        standardiser.fold_into(net)

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


def _standardised(chunks: Chunks, standardiser: Standardiser | None) -> Chunks:
    if standardiser is None:
        return chunks
    return replace(chunks, features=standardiser.apply(chunks.features))


def _chunk_augmentation(
    recipe: Recipe, data: MotionData, standardiser: Standardiser | None, device: str
) -> ChunkAugmentation | None:
    if not recipe.augment:
        return None
    num_features = len(data.feature_names)
    mean = np.zeros(num_features) if standardiser is None else standardiser.mean
    sd = np.ones(num_features) if standardiser is None else standardiser.sd
    return ChunkAugmentation(
        triples=[(t.x, t.y, t.z) for t in sensor_triples(data.feature_names)],
        max_rotation=math.radians(recipe.max_rotation_deg),
        magnitude_warp_sd=recipe.magnitude_warp_sd,
        mean=torch.as_tensor(mean, dtype=torch.float32, device=device),
        sd=torch.as_tensor(sd, dtype=torch.float32, device=device),
    )


def _copy_state(net: ActivityNet) -> dict[str, torch.Tensor]:
    return {name: t.detach().clone() for name, t in net.state_dict().items()}


def _final_metrics(net: ActivityNet, data: MotionData, chunks: Chunks, classes: list) -> dict:
    probabilities = per_row(predict.window_probabilities(net, chunks), chunks)
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
