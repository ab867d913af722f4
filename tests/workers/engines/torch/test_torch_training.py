"""train(): hyperparameters, validation, progress, cancellation, determinism (spec §2, §6)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from workers.engines.torch import (
    Hyperparameters,
    IterationReport,
    MotionData,
    MotionDataError,
    TrainingCanceled,
    epochs,
    train,
)
from workers.model.hyperparameters import BatchProgress

pytestmark = pytest.mark.unit

QUICK = Hyperparameters(recipe="turicreate", prediction_window=5, max_iterations=1, random_seed=1)


@pytest.mark.parametrize("batch_size", [-1, 0, "1", 1.5, True])
def test_invalid_batch_size_is_rejected(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        Hyperparameters(recipe="turicreate", batch_size=batch_size)


@pytest.mark.parametrize("window", [0, 401, 2.0])
def test_prediction_window_must_be_an_integer_between_1_and_400(window):
    with pytest.raises(ValueError, match="prediction_window"):
        Hyperparameters(recipe="turicreate", prediction_window=window)


def test_zero_iterations_and_non_integer_seed_are_rejected():
    with pytest.raises(ValueError, match="max_iterations must be at least 1"):
        Hyperparameters(recipe="turicreate", max_iterations=0)
    with pytest.raises(ValueError, match="random_seed"):
        Hyperparameters(recipe="turicreate", random_seed="42")


def test_numpy_integers_are_accepted_as_plain_ints():
    params = Hyperparameters(
        recipe="turicreate", prediction_window=np.int64(20), random_seed=np.int32(5)
    )
    assert type(params.prediction_window) is int and type(params.random_seed) is int


def test_training_without_a_seed_draws_one_and_records_it(make_sessions):
    params = Hyperparameters(recipe="turicreate", prediction_window=5, max_iterations=1)
    model = train(make_sessions([60]), params, log=None)
    assert isinstance(model.random_seed, int)


def test_training_with_no_validation_or_auto_validation_both_give_a_working_model(sessions):
    for validation in (None, "auto"):
        model = train(sessions, QUICK, validation=validation, log=None)
        assert model.validation_metrics is None  # 'auto' with 3 sessions: below 50
        assert len(model.predict(sessions)) == sessions.num_rows


def test_default_window_of_100_and_all_other_columns_as_features_work(sessions):
    model = train(
        sessions, Hyperparameters(recipe="turicreate", max_iterations=1, random_seed=3), log=None
    )
    assert model.prediction_window == 100
    assert model.features == list(sessions.feature_names)


def test_training_data_needs_targets(sessions):
    unlabelled = MotionData(
        session_ids=sessions.session_ids,
        features=sessions.features,
        feature_names=sessions.feature_names,
    )
    with pytest.raises(MotionDataError, match="target"):
        train(unlabelled, QUICK, log=None)


def test_logging_reports_each_iteration_and_log_none_is_silent(sessions, caplog):
    params = Hyperparameters(
        recipe="turicreate", prediction_window=5, max_iterations=2, random_seed=1
    )
    # Each iteration at DEBUG (a run's worker logs it once, at INFO, with its run id).
    with caplog.at_level(logging.DEBUG, logger="workers.engines.torch"):
        train(sessions, params, validation=None)
    verbose = caplog.text
    assert "iteration=1 " in verbose and "iteration=2 " in verbose
    assert "training complete" in verbose
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        train(sessions, params, validation=None, log=None)
    assert len(caplog.text) < len(verbose)
    assert "iteration=" not in caplog.text


def test_auto_validation_is_skipped_below_50_sessions(make_sessions, caplog):
    data = make_sessions([5] * 25)
    with caplog.at_level(logging.INFO, logger="workers.engines.torch"):
        model = train(data, QUICK, validation="auto")
    assert model.num_sessions == 25
    assert model.validation_metrics is None
    assert "below the minimum of 50" in caplog.text


def test_auto_validation_holds_out_about_10_percent_of_100_sessions(make_sessions):
    data = make_sessions([5] * 100)
    model = train(data, QUICK, validation="auto", log=None)
    held_out = (100 - model.num_sessions) / 100
    assert abs(held_out - 0.10) < 0.05  # Turi Create's check: equal to one decimal place
    assert model.validation_metrics is not None


@pytest.mark.parametrize("id_kind", ["integer", "6-char hex string"])
def test_auto_validation_holds_out_about_5_percent_of_400_sessions(make_sessions, id_kind):
    rng = np.random.default_rng(7)
    if id_kind == "integer":
        ids = rng.choice(10**9, 400, replace=False)
    else:
        ids = [f"{value:06X}" for value in rng.choice(16**6, 400, replace=False)]
    data = make_sessions([5] * 400, session_ids=ids)
    model = train(data, QUICK, validation="auto", log=None)
    held_out = (400 - model.num_sessions) / 400
    assert abs(held_out - 0.05) < 0.05
    assert model.num_sessions < 400
    assert model.validation_metrics["num_examples"] == (400 - model.num_sessions) * 5


def test_auto_split_keeps_whole_sessions_together_and_depends_on_the_seed(make_sessions):
    from workers.engines.torch import auto_validation_split

    data = make_sessions([3] * 200)
    train_part, valid_part = auto_validation_split(data, seed=11)
    assert not set(train_part.session_ids) & set(valid_part.session_ids)
    assert train_part.num_rows + valid_part.num_rows == data.num_rows
    assert valid_part.num_rows % 3 == 0
    same, _ = auto_validation_split(data, seed=11)
    other, _ = auto_validation_split(data, seed=12)
    np.testing.assert_array_equal(same.session_ids, train_part.session_ids)
    assert set(other.session_ids) != set(train_part.session_ids)


def test_explicit_validation_data_is_reported_each_iteration(make_sessions):
    reports = []
    params = Hyperparameters(
        recipe="turicreate", prediction_window=5, max_iterations=3, random_seed=1
    )
    model = train(
        make_sessions([200, 150]),
        params,
        validation=make_sessions([120], seed=3),
        on_iteration=reports.append,
        log=None,
    )
    assert [r.iteration for r in reports] == [1, 2, 3]
    assert all(0 <= r.validation_accuracy <= 1 and r.validation_loss > 0 for r in reports)
    assert all(0 <= r.train_accuracy <= 1 and r.train_loss > 0 for r in reports)
    assert [r.elapsed_s for r in reports] == sorted(r.elapsed_s for r in reports)
    assert model.progress == reports
    assert model.validation_metrics["num_examples"] == 120


def test_validation_label_never_seen_in_training_is_rejected(make_sessions):
    validation = make_sessions([50], num_labels=12, seed=5)  # labels 9..11 never trained on
    with pytest.raises(MotionDataError, match="unexpected class label"):
        train(make_sessions([100]), QUICK, validation=validation, log=None)


def test_bad_validation_argument_is_rejected(sessions):
    with pytest.raises(ValueError, match="validation must be"):
        train(sessions, QUICK, validation="sometimes", log=None)


def test_should_stop_cancels_training_between_batches(make_sessions):
    calls = []

    def should_stop() -> bool:
        calls.append(1)
        return len(calls) > 2

    params = Hyperparameters(
        recipe="turicreate", prediction_window=1, batch_size=1, max_iterations=5, random_seed=1
    )
    with pytest.raises(TrainingCanceled, match="iteration 1, batch 2"):
        train(make_sessions([20] * 4), params, should_stop=should_stop, log=None)


@pytest.mark.parametrize("recipe", ["turicreate", "motionlab"])
def test_batches_are_reported_while_an_epoch_trains(sessions, monkeypatch, recipe):
    """A sign of life within an epoch: a report when training starts (no batch yet), then
    about every BATCH_PROGRESS_INTERVAL_S (0 here: after every batch) with the loss so far;
    an epoch's last report carries the loss its IterationReport then states."""
    monkeypatch.setattr(epochs, "BATCH_PROGRESS_INTERVAL_S", 0.0)
    reports: list = []
    params = Hyperparameters(
        recipe=recipe, prediction_window=5, max_iterations=2, batch_size=4, random_seed=1
    )
    train(
        sessions,
        params,
        validation=None,
        log=None,
        on_batch=reports.append,
        on_iteration=reports.append,
    )
    start, *rest = reports
    assert isinstance(start, BatchProgress)
    assert (start.iteration, start.batches_done, start.train_loss) == (1, 0, None)
    total = start.batches_total  # 1,000 rows in 3 sessions: 12 chunks of 100 rows, 3 batches
    assert total == 3
    batches = [r for r in rest if isinstance(r, BatchProgress)]
    assert [(b.iteration, b.batches_done) for b in batches] == [
        (i, n) for i in (1, 2) for n in range(1, total + 1)
    ]
    epochs_done = [r for r in rest if isinstance(r, IterationReport)]
    for report in epochs_done:
        last = [b for b in batches if b.iteration == report.iteration][-1]
        assert last.train_loss == pytest.approx(report.train_loss, rel=1e-6)
        assert last.elapsed_s <= report.elapsed_s
    assert rest.index(epochs_done[0]) == total  # epoch 1's report after its batches


def test_batch_reports_are_time_based(sessions, monkeypatch):
    monkeypatch.setattr(epochs, "BATCH_PROGRESS_INTERVAL_S", 3600.0)
    reports: list = []
    train(sessions, QUICK, validation=None, log=None, on_batch=reports.append)
    assert [r.batches_done for r in reports] == [0]  # only the start within an hour


def test_same_seed_gives_identical_probabilities(sessions):
    params = Hyperparameters(
        recipe="turicreate", prediction_window=5, max_iterations=3, random_seed=86
    )
    first = train(sessions, params, validation=None, log=None)
    second = train(sessions, params, validation=None, log=None)
    other_seed = Hyperparameters(
        recipe="turicreate", prediction_window=5, max_iterations=3, random_seed=87
    )
    other = train(sessions, other_seed, validation=None, log=None)
    expected = first.predict(sessions, "probability_vector")
    np.testing.assert_allclose(second.predict(sessions, "probability_vector"), expected, atol=1e-6)
    assert not np.allclose(other.predict(sessions, "probability_vector"), expected, atol=1e-3)
    assert [r.train_loss for r in first.progress] == [r.train_loss for r in second.progress]


def test_training_leaves_the_global_torch_random_state_alone(sessions):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train(sessions, QUICK, validation=None, log=None)
    assert torch.equal(torch.rand(3), expected)


def test_final_metrics_are_per_row_on_the_training_split(sessions, model):
    assert model.num_examples == sessions.num_rows == model.training_metrics["num_examples"]
    assert model.num_sessions == 3
    predicted = model.predict(sessions)
    assert model.training_accuracy == pytest.approx(np.mean(predicted == sessions.targets))
    assert model.training_time > 0
