"""Training recipes: how the network of model.py is trained. The network, its checkpoint and
its Core ML export are the same for every recipe.

* turicreate — Turi Create 6.4's training, exactly (spec §2): raw features, chunks in fixed
  order, Keras Adam at 1e-3, no augmentation, the last epoch's weights.
* motionlab — the default. Each technique, and what it bought on BasicMotions (train → test,
  window 10, seeds 0-4, mean test accuracy, all others on; docs/recipes.md has the table):
  - chunks shuffled every epoch (without: 0.72; BasicMotions' training sessions are stored
    class by class, so ordered batches hold one class each);
  - per-feature standardisation learned on the training rows, folded into the first
    convolution after training, so the exported model still takes raw sensor values. On
    BasicMotions (features with sd 2-7) raw inputs did better (0.98 vs 0.97), but with the
    same data in other units (x100) raw inputs fell to 0.94 ± 0.014 while standardised ones do
    not move: kept, since the data this recipe meets comes in any unit;
  - augmentation per chunk: a random start offset (windows no longer always begin at a
    session's first row), per-feature gain and Gaussian jitter (without: 0.963 ± 0.008);
  - more, smaller steps: 150 epochs of 16 chunks at 6e-3 instead of 20 of 32 at 1e-3 (40
    epochs of 8 at 3e-3: 0.947), with batches cut after their last real window so the
    LSTM skips padding (about half the time on short sessions);
  - a cosine learning-rate schedule (warm-up, then decay to zero): no measurable change on
    BasicMotions (0.969 ± 0.006 without), kept so the last epoch is a settled one;
  - with a validation part, the epoch with the lowest validation loss is kept.
  Measured and left out: label smoothing 0.1 (0.969 vs 0.974 without), an exponential
  moving average of the weights (no change), cutting sessions at random window boundaries
  (+0.004 for 2.5x the time), two small temporal convolutions with max pooling instead of
  the window-wide one (no gain; it would also need new Core ML layers).
  Defaults are fixed once for all data; nothing here is tuned per dataset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.recipes import MOTIONLAB, TURICREATE, check_recipe


@dataclass(frozen=True)
class Recipe:
    name: str
    learning_rate: float
    standardise: bool  # per-feature (x - mean) / sd from the training rows, folded afterwards
    shuffle: bool  # draw the chunk order each epoch
    augment: bool  # random offsets, scaling and jitter per chunk (augment.py)
    cosine_schedule: bool  # linear warm-up over WARMUP_FRACTION, then cosine decay to 0
    label_smoothing: float
    keep_best_epoch: bool  # with a validation part: the weights of the lowest validation loss
    # Turi Create's train accuracy: the updated net re-run in eval mode after every step. The
    # motionlab recipe counts the training-mode predictions instead (half the forward passes).
    eval_train_accuracy: bool
    pad_batches: bool  # Turi Create pads the last batch with weight-0 zero chunks

    def learning_rate_at(self, step: int, total_steps: int) -> float:
        """The learning rate of optimiser step `step` (0-based) out of `total_steps`."""
        if not self.cosine_schedule:
            return self.learning_rate
        warmup = max(1, int(WARMUP_FRACTION * total_steps))
        if step < warmup:
            return self.learning_rate * (step + 1) / warmup
        progress = (step - warmup) / max(1, total_steps - warmup)
        return self.learning_rate * 0.5 * (1.0 + math.cos(math.pi * progress))


WARMUP_FRACTION = 0.05

RECIPES = {
    TURICREATE: Recipe(
        name=TURICREATE,
        learning_rate=1e-3,
        standardise=False,
        shuffle=False,
        augment=False,
        cosine_schedule=False,
        label_smoothing=0.0,
        keep_best_epoch=False,
        eval_train_accuracy=True,
        pad_batches=True,
    ),
    MOTIONLAB: Recipe(
        name=MOTIONLAB,
        learning_rate=6e-3,
        standardise=True,
        shuffle=True,
        augment=True,
        cosine_schedule=True,
        label_smoothing=0.0,
        keep_best_epoch=True,
        eval_train_accuracy=False,
        pad_batches=False,
    ),
}


def recipe(name: str) -> Recipe:
    return RECIPES[check_recipe(name)]
