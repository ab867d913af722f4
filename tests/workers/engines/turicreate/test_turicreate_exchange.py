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
from workers.engines.turicreate.exchange import read_probabilities_csv, write_rows_csv
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


def test_windows_are_numbered_within_each_contiguous_session(runner):
    assert runner.window_indices(["a", "a", "b", "b", "b", "a"]) == [0, 1, 0, 1, 2, 0]
    assert runner.count_sessions(["a", "a", "b", "a"]) == 3


def motion_data(ids, targets, rows):
    return MotionData(
        session_ids=np.asarray(ids, dtype=object),
        features=np.asarray(rows, dtype=np.float32),
        feature_names=("accelX", "accelY"),
        targets=None if targets is None else np.asarray(targets, dtype=object),
        session_column="sessionId",
        target_column="activity",
    )


def test_rows_csv_stacks_parts_in_order_with_exact_values(tmp_path):
    parts = {
        "test": motion_data(["t1"], ["Walking"], [[0.1, -2.5]]),
        "train": motion_data(["s1", "s1"], ["Running", "Running"], [[1.0, 2.0], [3.0, 1e-7]]),
    }
    path = tmp_path / "rows.csv"
    assert write_rows_csv(path, parts=parts) == 3
    lines = path.read_text().splitlines()
    assert lines[0] == "sessionId,activity,part,accelX,accelY"
    assert [line.split(",")[:3] for line in lines[1:]] == [
        ["s1", "Running", "train"],
        ["s1", "Running", "train"],
        ["t1", "Walking", "test"],
    ]
    assert float(lines[3].split(",")[3]) == float(np.float32(0.1))  # float32 kept exactly


def test_probability_csv_reads_back_classes_and_window_numbers(tmp_path):
    path = tmp_path / "windows.csv"
    path.write_text(
        "session_id,prediction_id,window,Running,Walking\na,0,0,0.25,0.75\na,0,1,0.5,0.5\n"
    )
    read = read_probabilities_csv(path)
    assert read.classes == ["Running", "Walking"]
    assert read.probabilities.shape == (2, 2)
    assert read.windows.tolist() == [0, 1]
    assert read.targets is None


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
