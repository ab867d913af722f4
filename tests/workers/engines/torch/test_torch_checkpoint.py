"""Checkpoints: one file rebuilds a model that predicts exactly what the saved one did."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from workers.engines.torch import ActivityClassifier, Hyperparameters, train
from workers.engines.torch.checkpoint import CheckpointError

pytestmark = pytest.mark.unit


def test_loaded_model_predicts_exactly_what_the_saved_one_did(model, sessions, tmp_path):
    path = tmp_path / "model.pt"
    model.save(path)
    loaded = ActivityClassifier.load(path)
    np.testing.assert_array_equal(
        loaded.predict(sessions, "probability_vector"),
        model.predict(sessions, "probability_vector"),
    )
    assert loaded.predict_topk(sessions, k=2)["class"].tolist() == (
        model.predict_topk(sessions, k=2)["class"].tolist()
    )
    for field in model.fields():
        assert getattr(loaded, field) == getattr(model, field), field
    assert loaded.progress == model.progress
    assert loaded.params == model.params


def test_checkpoint_with_validation_and_string_classes_round_trips(make_sessions, tmp_path):
    data = make_sessions([40, 30], num_labels=3)
    labelled = data.__class__(
        session_ids=data.session_ids,
        features=data.features,
        feature_names=data.feature_names,
        targets=np.array(["run", "sit", "walk"])[data.targets],
        session_column="session",
        target_column="activity",
    )
    params = Hyperparameters(
        recipe="turicreate", prediction_window=4, max_iterations=1, random_seed=2
    )
    model = train(labelled, params, validation=labelled, log=None)
    model.save(tmp_path / "model.pt")
    loaded = ActivityClassifier.load(tmp_path / "model.pt")
    assert loaded.classes == ["run", "sit", "walk"]
    assert loaded.validation_accuracy == model.validation_accuracy
    assert "validation_report_by_class" in loaded.fields()
    np.testing.assert_array_equal(loaded.predict(labelled), model.predict(labelled))


def test_checkpoint_is_plain_data_readable_with_weights_only(model, tmp_path):
    model.save(tmp_path / "model.pt")
    payload = torch.load(tmp_path / "model.pt", weights_only=True)
    assert set(payload["versions"]) == {"torch", "numpy", "python"}
    assert payload["hyperparameters"]["prediction_window"] == 5
    assert "lstm.weight_ih_l0" in payload["state_dict"]
    assert not list(tmp_path.glob(".model.pt.*"))  # no temporary file left behind


def test_a_file_that_is_not_a_checkpoint_is_rejected(tmp_path):
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a motionlab"):
        ActivityClassifier.load(tmp_path / "other.pt")
    (tmp_path / "garbage.pt").write_bytes(b"not a zip file")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        ActivityClassifier.load(tmp_path / "garbage.pt")
