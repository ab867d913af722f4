"""The engine contract (workers/engines/base.py): every registered engine has all of it, and
the worker, serving and downloads use nothing else, never the engine's name."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from coremltools.models.utils import load_spec

from core.db import make_engine, make_session_factory, unit_of_work
from core.models import Run, RunStatus
from core.params import RunParams
from core.recipes import RECIPES
from core.settings import Settings
from tests.support.homes import FAST
from tests.support.networks import session_rows, torch_stream
from tests.support.oracles.coreml_evaluator import CoreMLEvaluator
from tests.support.paths import REPO
from tests.support.problems import problem
from tests.support.runs import (
    running_workers,
    start_run,
    upload_named_features,
    upload_tiny,
    wait_for,
)
from workers.engines import registry
from workers.engines.base import COREML_FILE, Engine, EngineStatus, ModelFileMissing, Predictor
from workers.engines.classifier import TrainedClassifier
from workers.engines.registry import UnknownEngine, engines, get_engine
from workers.engines.turicreate.engine import TuriCreateEngine
from workers.live import Streamer
from workers.metrics import classification_metrics
from workers.model.hyperparameters import Hyperparameters
from workers.motion_data import MotionData
from workers.worker import Worker

CONTRACT_METHODS = ("status", "run", "export_coreml", "native_file", "load_model")
PARAMS = RunParams(features=["x", "y"], random_seed=1)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared migrated home, with a worker that polls and beats quickly."""
    return settings.model_copy(update=FAST)


def signature(function) -> list[tuple[str, inspect._ParameterKind]]:
    return [(p.name, p.kind) for p in inspect.signature(function).parameters.values()]


@pytest.mark.unit
@pytest.mark.parametrize("name", sorted(engines()))
def test_every_registered_engine_has_the_whole_contract(name, tmp_path):
    engine = get_engine(name)
    assert isinstance(engine, Engine) and engine.name == name
    assert isinstance(engine.serves_inline, bool)
    # The recipes it trains, and the one a run that names none gets (service/runs/service.py).
    assert engine.default_recipe in engine.recipes and set(engine.recipes) <= set(RECIPES)
    for method in CONTRACT_METHODS:
        assert signature(getattr(type(engine), method)) == signature(getattr(Engine, method))
    status = engine.status()
    assert isinstance(status, EngineStatus) and status.name == name
    # An empty run directory: each engine names what is missing, whatever it is.
    for attempt in (
        lambda: engine.native_file(tmp_path),
        lambda: engine.load_model(tmp_path),
        lambda: engine.export_coreml(tmp_path, PARAMS, run_id="r1"),
    ):
        with pytest.raises(ModelFileMissing, match=r"\S"):
            attempt()


@pytest.mark.unit
def test_an_unknown_engine_is_named_with_the_known_ones():
    with pytest.raises(UnknownEngine) as error:
        get_engine("keras")
    assert isinstance(error.value, KeyError)
    assert str(error.value) == "unknown engine 'keras'; this server has 'torch', 'turicreate'"


@pytest.mark.unit
def test_the_torch_library_imports_without_the_run_machinery():
    code = (
        "import sys, workers.engines.torch; "
        "print([m for m in ('core.db', 'sqlalchemy', 'fastapi', 'service') if m in sys.modules])"
    )
    answer = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert answer.stdout.strip() == "[]"


def test_a_torch_run_leaves_a_core_ml_model_that_predicts_like_its_checkpoint(api, settings):
    upload_tiny(api)
    run_id = start_run(
        api,
        prediction_window=5,
        max_iterations=2,
        random_seed=3,
        model={"name": "Tiny", "author": "contract tests", "license": "MIT"},
    )
    with running_workers(settings, 1):
        run = wait_for(api, run_id, {"succeeded", "failed"})
    assert run["status"] == "succeeded", run["error_message"]

    # Written by the worker with the run: no download has asked for it yet.
    run_dir = settings.runs_dir / run_id
    path = run_dir / COREML_FILE
    assert path.is_file()
    metadata = load_spec(str(path)).description.metadata
    assert metadata.userDefined["motionlab.run_id"] == run_id
    assert (metadata.author, metadata.license) == ("contract tests", "MIT")

    checkpoint = get_engine("torch").load_model(run_dir)
    rows = session_rows(23, len(checkpoint.features))  # not a whole number of windows
    streamed = CoreMLEvaluator(path).predict_session(rows)
    expected, state = torch_stream(checkpoint.step, rows, checkpoint.prediction_window)
    np.testing.assert_allclose(streamed.probabilities, expected, atol=1e-5)
    np.testing.assert_allclose(streamed.state, state, atol=1e-5)
    assert api.get(f"/v1/runs/{run_id}/model.mlmodel").content == path.read_bytes()


def test_a_run_whose_model_could_not_be_exported_is_refused_and_a_renamed_input_exports(
    api, settings, tmp_path
):
    # 'conv' also names a layer of the Core ML network: known when the run is asked for, so
    # refused then (it used to fail in the worker after training), with the way out.
    upload_named_features(api, "conv")
    detail = problem(api.post("/v1/runs", json={"prediction_window": 5}), 422)["detail"]
    assert "input names ['conv'] collide" in detail and "model.input_names" in detail
    run_id = start_run(
        api,
        prediction_window=5,
        max_iterations=1,
        random_seed=1,
        model={"input_names": {"conv": "convexity"}},
    )
    with running_workers(settings, 1):
        run = wait_for(api, run_id, {"succeeded", "failed"})
    assert run["status"] == "succeeded", run["error_message"]
    path = tmp_path / "model.mlmodel"
    path.write_bytes(api.get(f"/v1/runs/{run_id}/model.mlmodel").content)
    assert CoreMLEvaluator(path).features == ["convexity", "y"]


def test_a_run_without_its_model_files_does_not_succeed(settings):
    run = Run(id="f11e5000000000aa", engine="torch", params=PARAMS.model_dump())
    run_dir = settings.runs_dir / run.id
    run_dir.mkdir(parents=True)
    (run_dir / "result.json").write_text(json.dumps({"metrics": {"train": {}}, "versions": {}}))
    status, values = Worker(settings)._outcome(run, 0, None)
    assert status == RunStatus.FAILED
    assert values["error_message"] == (
        "the run finished without its model files: no Core ML model model.mlmodel; "
        f"run {run.id} has no checkpoint file model.pt"
    )


class Constant(TrainedClassifier):
    """A model that answers the same probabilities for every row, with no library behind it."""

    def __init__(self):
        super().__init__(
            classes=["a", "b"],
            features=["x", "y"],
            target="activity",
            session_id="session_id",
            params=Hyperparameters(recipe="turicreate", prediction_window=2),
            num_sessions=1,
            num_examples=4,
            training_time=0.0,
        )
        self.training_metrics, self.validation_metrics, self.training_iterations = {}, None, 1

    def _probabilities(self, data: MotionData, output_frequency: str):
        return np.tile([0.25, 0.75], (len(data.session_ids), 1)), None  # (N, C), per row only


class SlateEngine:
    """An engine this code base has never heard of, known only by its contract."""

    name = "slate"
    serves_inline = False

    def status(self) -> EngineStatus:
        return EngineStatus(self.name, True, "1.0", "cpu", "a test double")

    def run(self, context):
        raise AssertionError("serving never trains")

    def export_coreml(self, run_dir: Path, params: RunParams, *, run_id: str) -> Path:
        raise AssertionError("serving never exports: the worker did when the run finished")

    def native_file(self, run_dir: Path) -> Path:
        return run_dir / "slate.bin"

    def load_model(self, run_dir: Path) -> Predictor:
        return Constant()


def test_serving_and_downloads_ask_the_engine_not_its_name(api, settings, monkeypatch):
    known = registry.engines
    monkeypatch.setattr(registry, "engines", lambda: {**known(), "slate": SlateEngine()})
    run_id = "51a7e00000000001"
    with unit_of_work(make_session_factory(make_engine(settings.resolved_database_url))) as db:
        db.add(
            Run(
                id=run_id,
                engine="slate",
                status=RunStatus.SUCCEEDED,
                params=PARAMS.model_dump(),
                data_fingerprint="0" * 64,
            )
        )
    run_dir = settings.runs_dir / run_id
    run_dir.mkdir(parents=True)
    (run_dir / "slate.bin").write_bytes(b"slate model")

    rows = "x,y\n1,2\n3,4\n"
    answer = api.post(
        f"/v1/runs/{run_id}/predict", content=rows, headers={"Content-Type": "text/csv"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["predictions"] == {"class": ["b", "b"]}
    native = api.get(f"/v1/runs/{run_id}/model")
    assert native.status_code == 200 and native.content == b"slate model"
    coreml = api.get(f"/v1/runs/{run_id}/model.mlmodel")  # never exported on a download
    assert coreml.status_code == 404
    assert f"run {run_id} has no Core ML model file model.mlmodel" in coreml.json()["detail"]


def fake_turicreate_run(run_dir: Path) -> Path:
    """The files a Turi Create run leaves after training (the runner's summary.json, the
    metrics computed from its export), written by hand so that no Turi Create runs."""
    run_dir.mkdir()
    reported = {"num_examples": 4, "training_iterations": 3, "random_seed": 7}
    summary = {
        "versions": {"turicreate": "6.4.1", "python": "3.8.18"},
        "classes": ["sit", "walk"],
        "features": ["x", "y"],
        "target": "activity",
        "session_id": "sessionId",
        "prediction_window": 5,
        "max_iterations": 3,
        "batch_size": 32,
        "validation": "split",
        "parts": {"train": {"rows": 4, "sessions": 2}},
        "model_fields": {**reported, "num_sessions": 2, "training_accuracy": 0.75},
        "num_sessions": 2,
        "training_time": 0.5,
        "files": {"model": "model", "mlmodel": "model.mlmodel", "summary": "summary.json"},
    }
    (run_dir / "summary.json").write_text(json.dumps(summary))
    probabilities = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.8, 0.2]])
    train = classification_metrics(["sit", "sit", "walk", "walk"], probabilities, ["sit", "walk"])
    (run_dir / "part_metrics.json").write_text(json.dumps({"train": train}))
    (run_dir / "model").mkdir()
    (run_dir / "model" / "objects.bin").write_bytes(b"turi create model")
    return run_dir


@pytest.mark.unit
def test_a_turicreate_model_has_its_fields_and_repr_and_streams_like_any(tmp_path):
    model = TuriCreateEngine().load_model(fake_turicreate_run(tmp_path / "run"))
    assert isinstance(model, Predictor)
    assert repr(model) == (
        "TuriCreateModel(classes=['sit', 'walk'], features=['x', 'y'], prediction_window=5, "
        "num_sessions=2, num_examples=4)"
    )
    fields = {name: getattr(model, name) for name in model.fields()}
    assert "validation_accuracy" not in fields  # no validation part
    assert fields["training_accuracy"] == 0.75  # the run's metric set
    assert fields["training_confusion_matrix"]
    assert fields["training_iterations"] == 3 and fields["random_seed"] == 7
    assert fields["num_classes"] == 2
    assert isinstance(model, Streamer)  # its exported network steps windows in this process


@pytest.mark.unit
def test_the_turicreate_native_file_is_its_model_directory_zipped_once(tmp_path):
    run_dir = fake_turicreate_run(tmp_path / "run")
    engine = TuriCreateEngine()
    path = engine.native_file(run_dir)
    with zipfile.ZipFile(path) as archive:
        assert archive.read("model/objects.bin") == b"turi create model"
    written = path.stat().st_mtime_ns
    assert engine.native_file(run_dir) == path and path.stat().st_mtime_ns == written
