"""Runs over channels: sessions of different apps train together on canonical features, a run
selects sessions by features and says what it left out, and the exported model takes the units
the run declares (the conversion folded into its first layer: checked with the NumPy Core ML
evaluator and onnxruntime)."""

from __future__ import annotations

import numpy as np
import onnxruntime
import pytest

from core.db import make_engine, make_session_factory, unit_of_work
from core.storage import pack_store
from tests.support.networks import onnx_stream
from tests.support.oracles.coreml_evaluator import CoreMLEvaluator
from tests.support.phone_formats import G, phone_recordings
from tests.support.problems import problem
from tests.support.runs import running_workers, start_run, upload_tiny, wait_for
from workers.engines.turicreate import availability

MOTION = ["accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ"]
ACTIVITIES = ("wave", "still")


def upload_recordings(api, app: str, split: str, seeds=(0, 1, 2)) -> list[str]:
    """Recordings of both activities as `app` (sensor-logger, edge-impulse) exports them."""
    ids = []
    for activity in ACTIVITIES:
        for seed in seeds:
            logger, edge = phone_recordings(activity, seed=seed)
            body, kind = (logger, "application/zip") if app == "sensor-logger" else (edge, None)
            session_id = f"{app}-{activity}-{seed}"
            response = api.post(
                "/v1/sessions",
                params={"session_id": session_id, "activity": activity, "split": split},
                content=body,
                headers={"Content-Type": kind or "application/json"},
            )
            assert response.status_code == 201, response.text
            ids.append(session_id)
    return ids


def test_a_sensor_logger_zip_and_an_edge_impulse_file_of_the_same_motion_train_in_one_run(
    api, settings
):
    upload_recordings(api, "sensor-logger", "train")  # user acceleration + gravity, rad/s
    upload_recordings(api, "edge-impulse", "test")  # acceleration with gravity in m/s², deg/s
    run_id = start_run(
        api, prediction_window=25, max_iterations=20, random_seed=0, split={"strategy": "column"}
    )
    run = api.get(f"/v1/runs/{run_id}").json()
    assert run["params"]["features"] == MOTION
    assert [c["unit"] for c in run["params"]["channels"]] == ["g"] * 3 + ["rad/s"] * 3
    [shared] = run["warnings"]
    assert "different channels" in shared and "share [accelX, accelY" in shared, shared
    assert run["sessions_per_part"] == {"train": 6, "test": 6}
    with running_workers(settings, 1):
        run = wait_for(api, run_id, {"succeeded", "failed"}, timeout_s=300)
    assert run["status"] == "succeeded", run["error_message"]
    # Trained on one app's recordings, it recognises the other's: the same motion, read alike
    # (the run reads each seed's motion from both apps as the same rows).
    assert api.get(f"/v1/runs/{run_id}/metrics").json()["test"]["accuracy"] > 0.95
    parts = run_parts(settings, run_id)
    for activity in ACTIVITIES:
        logger = parts["train"].features[
            parts["train"].session_ids == f"sensor-logger-{activity}-1"
        ]
        edge = parts["test"].features[parts["test"].session_ids == f"edge-impulse-{activity}-1"]
        np.testing.assert_allclose(logger, edge, rtol=1e-5, atol=1e-6)


def run_parts(settings, run_id: str):
    from workers.run_data import load_run_parts

    engine = make_engine(settings.resolved_database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as db:
            return load_run_parts(
                db, pack_store(settings), run_id, features=MOTION, target="activity"
            )
    finally:
        engine.dispose()


def test_features_leave_out_the_sessions_without_them_with_a_warning(api):
    upload_tiny(api, sessions=6)  # x, y
    partial = [
        {"id": f"only-x-{i}", "activity": "ab"[i], "columns": ["x"], "samples": [[1.0]] * 20}
        for i in range(2)
    ]
    assert api.post("/v1/sessions", json={"sessions": partial}).status_code == 201
    response = api.post("/v1/runs", json={"prediction_window": 5, "features": ["y", "x"]})
    assert response.status_code == 202, response.text
    run = response.json()
    assert run["params"]["features"] == ["y", "x"]  # in the order asked for
    [warning] = run["warnings"]
    assert "2 of the 8 selected sessions lack some of the features and were left out" in warning
    assert "'only-x-0' lacks 'y'" in warning, warning
    assert sum(run["sessions_per_part"].values()) == 6
    # 422 only when nothing is left.
    only = {"prediction_window": 5, "features": ["y"], "data": {"sessions": ["only-x-0"]}}
    detail = problem(api.post("/v1/runs", json=only), 422)["detail"]
    assert "no selected session has all of the features 'y'" in detail, detail


def upload_edge_impulse(api) -> None:
    upload_recordings(api, "edge-impulse", "train", seeds=(0, 1))
    upload_recordings(api, "edge-impulse", "test", seeds=(5,))


def predicted(api, run_id: str, session_id: str) -> np.ndarray:
    """The run's per-window probabilities of a stored session, posted as GET returns it (its
    channels convert it into the run's units)."""
    document = api.get(
        f"/v1/sessions/{session_id}/samples", headers={"Accept": "application/json"}
    ).json()
    response = api.post(
        f"/v1/runs/{run_id}/predict",
        json=document,
        params={"output_frequency": "per_window", "output_type": "probability_vector"},
    )
    assert response.status_code == 200, response.text
    return np.array(response.json()["predictions"]["probability_vector"])


def downloaded(api, tmp_path, run_id: str, name: str):
    """The downloaded file, written under tmp_path."""
    response = api.get(f"/v1/runs/{run_id}/{name}")
    assert response.status_code == 200, response.text
    path = tmp_path / f"{run_id}-{name}"
    path.write_bytes(response.content)
    return path


TURICREATE = pytest.param(
    "turicreate",
    marks=[
        pytest.mark.turicreate,
        pytest.mark.skipif(not availability().available, reason="Turi Create unavailable"),
    ],
)


@pytest.mark.parametrize("engine", ["torch", TURICREATE])
def test_a_model_trained_on_m_s2_data_takes_g_or_what_the_run_declares(
    api, settings, tmp_path, engine
):
    """Turi Create trains on what it is given, the canonical values; its own export is folded
    like the torch engine's."""
    upload_edge_impulse(api)  # accX… in m/s², gyrX… in deg/s
    common = {"engine": engine, "prediction_window": 30, "max_iterations": 4, "random_seed": 1}
    core_motion = start_run(api, **common)
    web = start_run(api, **common, model={"device_units": "web", "input_names": {"rotZ": "alpha"}})
    with running_workers(settings, 1):
        for run_id in (core_motion, web):
            run = wait_for(api, run_id, {"succeeded", "failed"}, timeout_s=600)
            assert run["status"] == "succeeded", run["error_message"]
    raw = np.array(
        api.get(
            "/v1/sessions/edge-impulse-wave-5/samples", headers={"Accept": "application/json"}
        ).json()["samples"]
    )  # (n, 6): m/s², deg/s
    in_g = np.column_stack([raw[:, :3] / G, np.deg2rad(raw[:, 3:])])  # what Core Motion gives
    for run_id, rows, names, units in (
        (core_motion, in_g, MOTION, "g,g,g,rad/s,rad/s,rad/s"),
        (web, raw, [*MOTION[:5], "alpha"], "m/s2,m/s2,m/s2,deg/s,deg/s,deg/s"),
    ):
        expected = predicted(api, run_id, "edge-impulse-wave-5")
        path = downloaded(api, tmp_path, run_id, "model.mlmodel")
        evaluator = CoreMLEvaluator(path)
        assert evaluator.features == names
        metadata = evaluator_metadata(path)
        assert (metadata["units"], metadata["features"]) == (units, ",".join(names))
        assert metadata["channels"].startswith("accelerometer.x,accelerometer.y")
        core_ml = evaluator.predict_session(rows, reset_state_every=20)
        np.testing.assert_allclose(core_ml.probabilities, expected, atol=1e-4)
        session = onnxruntime.InferenceSession(downloaded(api, tmp_path, run_id, "model.onnx"))
        props = session.get_modelmeta().custom_metadata_map
        assert props["units"] == units
        probabilities, _, _ = onnx_stream(session, names, rows.astype(np.float32), 30)
        np.testing.assert_allclose(probabilities, core_ml.probabilities, atol=1e-4)


def evaluator_metadata(path) -> dict[str, str]:
    from coremltools.models.utils import load_spec

    return dict(load_spec(str(path)).description.metadata.userDefined)


@pytest.mark.parametrize(
    ("model", "words"),
    [
        ({"input_units": {"rotX": "m/s2"}}, ["not a unit of angular velocity", "rad/s, deg/s"]),
        ({"input_units": {"nope": "g"}}, ["input_units names ['nope']", "not features"]),
        ({"input_names": {"accelX": "stateIn"}}, ["collide", "stateIn"]),
        ({"input_names": {"accelX": "rotX"}}, ["collide", "'rotX'"]),
        ({"device_units": "windows-phone"}, ["device_units"]),
    ],
)
def test_bad_model_inputs_are_a_422(api, model, words):
    upload_edge_impulse(api)
    detail = problem(api.post("/v1/runs", json={"prediction_window": 10, "model": model}), 422)
    text = str(detail)
    for word in words:
        assert word in text, text


def test_sessions_of_one_run_that_disagree_on_a_unit_are_named_in_a_warning(api):
    """A gentle wave recorded in deg/s under names that say rad/s passes its own check (17
    "rad/s" is a possible rate) but sits 57x above the other waves: the run names it."""
    t = np.arange(100) / 50
    gentle = 0.3 * np.column_stack([np.sin(2 * np.pi * t), np.cos(2 * np.pi * t), 0 * t])  # rad/s

    def session(session_id: str, activity: str, values: np.ndarray) -> dict:
        return {
            "id": session_id,
            "activity": activity,
            "columns": ["wx", "wy", "wz"],
            "samples": values.tolist(),
        }

    sessions = [
        session("wave-1", "wave", gentle),
        session("wave-2", "wave", gentle * 1.1),
        session("wave-deg", "wave", np.rad2deg(gentle)),
        session("still-1", "still", gentle / 10),
        session("still-2", "still", gentle / 12),
    ]
    stored = api.post("/v1/sessions", json={"sessions": sessions})
    assert stored.status_code == 201, stored.text
    assert all(entry["warnings"] == [] for entry in stored.json()["sessions"])
    response = api.post("/v1/runs", json={"prediction_window": 10})
    assert response.status_code == 202, response.text
    [warning] = response.json()["warnings"]
    assert "sessions disagree on the gyroscope's" in warning and "'wave-deg'" in warning, warning
    assert "'wave-1'" not in warning and "still" not in warning.split("; a unit")[0]
