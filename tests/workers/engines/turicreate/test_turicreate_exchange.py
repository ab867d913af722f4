"""The Turi Create engine's pieces that need no Python 3.8: the runner's progress-table parser
(runner.py is plain 3.8-compatible Python, importable here), the exchanged files, and the
availability check."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from workers.engines.turicreate import environment
from workers.engines.turicreate.environment import availability
from workers.engines.turicreate.exchange import read_probabilities, write_parts
from workers.engines.turicreate.process import RUNNER
from workers.motion_data import MotionData

pytestmark = pytest.mark.unit

# What Turi Create 6.4.1 printed to stdout while training (Keras bars included, \r and \b
# as they come), then "Training complete".
TRAINING_OUTPUT = (
    "Using CPU to create model.\n"
    "+--------------+----------------+---------------------+--------------+\n"
    "| Iteration    | Train Accuracy | Validation Accuracy | Elapsed Time |\n"
    "+--------------+----------------+---------------------+--------------+\n"
    "\r1/1 [==============================] - ETA: 0s\b\b\b\b\r1/1 [=====] - 0s 13ms/step\n"
    "| 1            | 0.4525         | 0.485               | 2.81s        |\n"
    "| 2            | 0.6225         | 0.4825              | 1m 3s        |\n"
    "+--------------+----------------+---------------------+--------------+\n"
    "Training complete\n"
)


@pytest.fixture(scope="module")
def runner():
    spec = importlib.util.spec_from_file_location("turicreate_runner", RUNNER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class CollectedEvents:
    def __init__(self):
        self.records: list[dict] = []

    def emit(self, event, **fields):
        self.records.append({"event": event, **fields})


def test_progress_table_rows_become_iteration_events(runner, capsys):
    events = CollectedEvents()
    capture = runner.StdoutCapture(events)
    for line in TRAINING_OUTPUT.replace("\r", "\n").split("\n"):
        capture._handle(line)

    assert events.records == [
        {
            "event": "iteration",
            "iteration": 1,
            "train_accuracy": 0.4525,
            "validation_accuracy": 0.485,
            "elapsed_s": 2.81,
        },
        {
            "event": "iteration",
            "iteration": 2,
            "train_accuracy": 0.6225,
            "validation_accuracy": 0.4825,
            "elapsed_s": 63.0,
        },
    ]
    # Turi Create's other lines are kept (on stderr); Keras' progress bars are dropped.
    assert capsys.readouterr().err.splitlines() == [
        "Using CPU to create model.",
        "Training complete",
    ]


def test_table_without_validation_reports_none(runner):
    table = runner.ProgressTable()
    table.feed("| Iteration    | Train Accuracy | Elapsed Time |")
    assert table.feed("| 20           | 0.895          | 5.73s        |") == {
        "iteration": 20,
        "train_accuracy": 0.895,
        "validation_accuracy": None,
        "elapsed_s": 5.73,
    }


@pytest.mark.parametrize(
    ("cell", "seconds"),
    [("2.30s", 2.3), ("150ms", 0.15), ("15us", 15e-6), ("1m 40s", 100.0), ("2h 5m", 7500.0)],
)
def test_elapsed_time_cells_parse_to_seconds(runner, cell, seconds):
    assert runner.parse_elapsed(cell) == pytest.approx(seconds)


def test_runner_rejects_params_it_does_not_know(runner, tmp_path):
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"features": ["x"], "prediction_windw": 5}))
    with pytest.raises(runner.InputError, match="prediction_windw"):
        runner.load_params(params)


def motion_data(ids, targets, rows):
    return MotionData(
        session_ids=np.asarray(ids, dtype=object),
        features=np.asarray(rows, dtype=np.float32),
        feature_names=("accelX", "accelY"),
        targets=None if targets is None else np.asarray(targets, dtype=object),
        session_column="sessionId",
        target_column="activity",
    )


def test_parts_are_written_as_columns_in_part_order_with_exact_values(tmp_path):
    parts = {
        "test": motion_data(["t1"], ["Walking"], [[0.1, -2.5]]),
        "train": motion_data(
            ["s1", "s1", "s2", "s1"],
            ["Running"] * 3 + ["Walking"],
            [[1, 2], [3, 1e-7], [4, 5], [6, 7]],
        ),
    }
    assert write_parts(tmp_path, parts=parts) == 5
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest == {
        "session_column": "sessionId",
        "target_column": "activity",
        "features": ["accelX", "accelY"],
        "classes": ["Running", "Walking"],  # of every part, sorted
        "parts": {"train": {"rows": 4, "sessions": 3}, "test": {"rows": 1, "sessions": 1}},
    }
    # An id that comes back later starts another session (Turi Create's rule).
    assert np.load(tmp_path / "train.session_lengths.npy").tolist() == [2, 1, 1]
    assert np.load(tmp_path / "train.targets.npy").tolist() == [0, 0, 0, 1]
    assert np.load(tmp_path / "test.targets.npy").tolist() == [1]
    features = np.load(tmp_path / "test.features.npy")  # (F, N): a column a row
    assert features.dtype == np.float32 and features.tolist() == [[np.float32(0.1)], [-2.5]]


def test_parts_without_labels_write_no_targets(tmp_path):
    write_parts(tmp_path, parts={"test": motion_data(["a", "b"], None, [[1, 2], [3, 4]])})
    assert json.loads((tmp_path / "manifest.json").read_text())["target_column"] is None
    assert not (tmp_path / "test.targets.npy").exists()


def test_parts_with_other_columns_are_refused(tmp_path):
    other = MotionData(np.asarray(["a"]), np.zeros((1, 1)), ("x",), np.asarray(["l"]), "sessionId")
    with pytest.raises(ValueError, match="other columns"):
        write_parts(tmp_path, parts={"train": motion_data(["a"], ["l"], [[1, 2]]), "test": other})
    with pytest.raises(ValueError, match="unknown part"):
        write_parts(tmp_path, parts={"holdout": other})


def test_window_probabilities_read_back_with_the_session_ids(tmp_path):
    data = motion_data(["a", "a", "b"], None, [[1, 2], [3, 4], [5, 6]])
    np.save(tmp_path / "probabilities.npy", np.array([[0.25, 0.75], [0.5, 0.5], [1.0, 0.0]]))
    np.save(tmp_path / "session.npy", np.array([0, 0, 1]))
    np.save(tmp_path / "prediction_id.npy", np.array([0, 0, 0]))
    read = read_probabilities(tmp_path, classes=["Running", "Walking"], data=data)
    assert read.session_ids.tolist() == ["a", "a", "b"]
    assert read.prediction_ids.tolist() == [0, 0, 0]
    assert read.probabilities.shape == (3, 2)
    with pytest.raises(ValueError, match="probabilities"):
        read_probabilities(tmp_path, classes=["one", "two", "three"], data=data)


def test_missing_env_is_unavailable_with_a_hint(tmp_path):
    state = availability(venv=tmp_path / "nowhere")
    assert not state.available
    assert state.version is None
    assert "make turicreate-env" in state.reason


def test_env_built_from_other_requirements_is_unavailable(tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").symlink_to("/bin/true")
    stamp = {"requirements_sha256": hashlib.sha256(b"old").hexdigest(), "turicreate": "6.4.1"}
    (tmp_path / environment.STAMP_NAME).write_text(json.dumps(stamp))
    state = availability(venv=tmp_path)
    assert not state.available
    assert "older requirements" in state.reason

    # Rebuilt (`make turicreate-env`) while the server runs: taken up at the next look.
    stamp["requirements_sha256"] = hashlib.sha256(environment.REQUIREMENTS.read_bytes()).hexdigest()
    (tmp_path / environment.STAMP_NAME).write_text(json.dumps(stamp))
    state = availability(venv=tmp_path)
    assert state.available
    assert state.version == "6.4.1"


def test_runner_is_python38_syntax():
    """runner.py runs under Python 3.8: no syntax newer than that."""
    import ast

    ast.parse(Path(RUNNER).read_text(), feature_version=(3, 8))
