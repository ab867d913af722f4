"""Recipes (issue 15): the motionlab default trains better models on BasicMotions than the
turicreate reproduction, behind the same network; its standardisation folds in exactly."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pytest
import torch

from core.recipes import DEFAULT_RECIPE, MOTIONLAB, RECIPE_DEFAULTS, TURICREATE
from tests.support.basicmotions import split
from tests.support.paths import BASICMOTIONS_CSV
from workers.engines.torch import ActivityClassifier, Hyperparameters, train
from workers.engines.torch.augment import random_resample
from workers.engines.torch.epochs import DeviceChunks, evaluate_epoch
from workers.engines.torch.model import ActivityNet
from workers.engines.torch.standardise import Standardiser
from workers.model.windows import encode_labels, make_chunks


@pytest.mark.unit
def test_default_recipe_is_motionlab_with_its_own_defaults():
    params = Hyperparameters()
    assert DEFAULT_RECIPE == MOTIONLAB and params.recipe == MOTIONLAB
    # Its epochs come from its step budget once the data is known (test_step_budget.py).
    assert (params.max_iterations, params.batch_size) == (None, RECIPE_DEFAULTS[MOTIONLAB][1])
    turicreate = Hyperparameters(recipe=TURICREATE)
    assert (turicreate.max_iterations, turicreate.batch_size) == (10, 32)
    with pytest.raises(ValueError, match="unknown recipe 'fancy'"):
        Hyperparameters(recipe="fancy")


@pytest.mark.unit
def test_standardisation_folded_into_the_first_layer_gives_the_same_outputs_on_raw_rows():
    torch.manual_seed(0)
    net = ActivityNet(num_features=3, num_classes=4, prediction_window=5).eval()
    rng = np.random.default_rng(0)
    raw = rng.normal([10.0, -3.0, 0.5], [4.0, 0.1, 2.0], (2, 100, 3)).astype(np.float32)
    raw[1, 60:] = 0.0  # padding rows, as a session's last chunk has them
    standardiser = Standardiser.fit(raw.reshape(-1, 3))
    with torch.no_grad():
        before, _ = net(torch.from_numpy(standardiser.apply(raw)))
        standardiser.fold_into(net)
        after, _ = net(torch.from_numpy(raw))
    torch.testing.assert_close(after, before, atol=1e-4, rtol=1e-4)


@pytest.mark.unit
def test_random_offsets_drop_under_a_window_and_keep_every_rows_label():
    data = split(pcsv.read_csv(BASICMOTIONS_CSV), "train")
    shifted = random_resample(data, 10, 0.0, np.random.default_rng(0))  # speed 1: offsets only
    assert data.num_rows - 40 * 9 <= shifted.num_rows < data.num_rows
    assert shifted.num_sessions >= data.num_sessions  # cut into pieces, never merged
    original_label = dict(zip(map(bytes, data.features), data.targets, strict=True))
    assert all(
        original_label[bytes(f)] == t
        for f, t in zip(shifted.features, shifted.targets, strict=True)
    )


@pytest.mark.unit
def test_motionlab_training_is_deterministic_per_seed(sessions):
    params = Hyperparameters(prediction_window=5, max_iterations=3, random_seed=4)
    first, second = (train(sessions, params, validation=None, log=None) for _ in range(2))
    np.testing.assert_array_equal(
        first.predict(sessions, "probability_vector"),
        second.predict(sessions, "probability_vector"),
    )


@pytest.mark.unit
def test_checkpoint_keeps_the_recipe_and_folded_weights(tmp_path, sessions):
    params = Hyperparameters(prediction_window=5, max_iterations=2, random_seed=4)
    model = train(sessions, params, validation=None, log=None)
    model.save(tmp_path / "model.pt")
    loaded = ActivityClassifier.load(tmp_path / "model.pt")
    assert loaded.params.recipe == MOTIONLAB
    np.testing.assert_array_equal(
        loaded.predict(sessions, "probability_vector"),
        model.predict(sessions, "probability_vector"),
    )


@pytest.mark.system
def test_motionlab_recipe_beats_turicreate_on_basicmotions_held_out_sessions():
    table = pcsv.read_csv(BASICMOTIONS_CSV)
    train_data = split(table, "train")
    test_data = split(table, "test")
    assert not np.isin(
        pc.unique(table.filter(pc.equal(table["split"], "test"))["sessionId"]).to_numpy(
            zero_copy_only=False
        ),
        train_data.session_ids,
    ).any()
    accuracy = {}
    for recipe, extra in ((TURICREATE, {"max_iterations": 20}), (MOTIONLAB, {})):
        params = Hyperparameters(prediction_window=10, random_seed=0, recipe=recipe, **extra)
        model = train(train_data, params, validation=None, log=None)
        accuracy[recipe] = model.evaluate(test_data)["accuracy"]
    assert accuracy[MOTIONLAB] >= 0.95, accuracy
    assert accuracy[MOTIONLAB] >= accuracy[TURICREATE] + 0.05, accuracy


@pytest.mark.unit
def test_with_a_validation_part_motionlab_keeps_the_epoch_of_lowest_validation_loss(
    make_sessions,
):
    data = make_sessions([300] * 6, num_labels=3, seed=1)  # noise labels: it overfits
    held_out = make_sessions([300] * 3, num_labels=3, seed=2)
    params = Hyperparameters(prediction_window=5, max_iterations=6, random_seed=1)
    model = train(data, params, validation=held_out, log=None)
    losses = [report.validation_loss for report in model.progress]
    assert losses.index(min(losses)) < len(losses) - 1  # the last epoch is not the best
    labels = encode_labels(held_out.labels, model.classes)
    chunks = make_chunks(held_out, 5, labels, len(model.classes))
    _, kept_loss = evaluate_epoch(model.net, DeviceChunks.build(chunks, "cpu"))
    assert kept_loss == pytest.approx(min(losses), rel=1e-4)
