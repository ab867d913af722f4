"""An API and a worker on "different hosts": separate homes, sharing only the database and
the store URL (S3 on moto, or a shared volume). The worker reads the sessions from the store
and publishes what it trained there; the API serves downloads, predictions and the registry
from the store, and deleting a run deletes its objects."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import onnx
import pytest

from core.migrate import upgrade
from core.object_store import open_object_store
from core.settings import Settings
from tests.support.basicmotions import basicmotions_rows, csv_bytes
from tests.support.homes import FAST
from tests.support.runs import start_run, upload_basicmotions, wait_for
from tests.support.servers import LiveServer, serve_environment

RUN_BODY = {"prediction_window": 10, "max_iterations": 2, "split": {"strategy": "column"}}
CSV = {"Content-Type": "text/csv"}


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def run_worker_host(home: Path, **env: str) -> None:
    """`motionlab worker --burst` with a home of its own: it executes the queue, then exits."""
    environment = serve_environment(home, 0, **env)
    command = [sys.executable, "-m", "service.cli", "worker", "--burst"]
    subprocess.run(command, env=environment, check=True, timeout=300)


@pytest.mark.system  # trains two real models in a worker process, several hosts
def test_worker_and_api_on_separate_homes_share_runs_through_the_store(tmp_path, store_config):
    database_url = f"sqlite:///{tmp_path / 'shared.db'}"
    upgrade(database_url)
    shared = {"database_url": database_url, **store_config}
    api_settings = Settings(home=tmp_path / "api-host", workers=0, **FAST, **shared)
    api_settings.home.mkdir()
    objects = open_object_store(api_settings)

    with LiveServer(api_settings) as live, httpx.Client(base_url=live.url, timeout=60) as api:
        upload_basicmotions(api)
        kept, deleted = (start_run(api, **RUN_BODY, random_seed=seed) for seed in (5, 6))
        run_worker_host(tmp_path / "worker-host", **shared)
        for run_id in (kept, deleted):
            wait_for(api, run_id, {"succeeded"}, timeout_s=10)

        # Nothing of the data or the runs stays on either host: it is all in the store.
        assert files_under(tmp_path / "worker-host") == []
        assert not (api_settings.home / "blobs").exists()
        assert not (api_settings.home / "runs").exists()
        stored = {s.key for s in objects.list_objects(f"runs/{kept}")}
        assert {f"runs/{kept}/model.mlmodel", f"runs/{kept}/model.pt"} <= stored
        assert f"runs/{kept}/metrics.json" in stored
        assert not any(key.endswith(("result.json", ".started")) for key in stored)

        coreml = api.get(f"/v1/runs/{kept}/model.mlmodel")
        assert coreml.status_code == 200
        assert coreml.content == objects.get_bytes(f"runs/{kept}/model.mlmodel")
        native = api.get(f"/v1/runs/{kept}/model")
        assert native.content == objects.get_bytes(f"runs/{kept}/model.pt")
        assert api.get(f"/v1/runs/{kept}/metrics").json()["test"]["accuracy"] > 0
        rows = basicmotions_rows(["test-003"]).drop_columns(["sessionId", "activity", "split"])
        predicted = api.post(f"/v1/runs/{kept}/predict", content=csv_bytes(rows), headers=CSV)
        assert predicted.status_code == 200, predicted.text
        assert len(predicted.json()["predictions"]["class"]) == rows.num_rows

        version = api.post("/v1/models/Gesture/versions", json={"run_id": kept})
        assert version.status_code == 201, version.text
        registered = api.get("/v1/models/Gesture/latest/model.mlmodel")
        assert registered.content == coreml.content
        # Formats converted on demand from the stored .mlmodel work from the store too.
        onnx_model = api.get(f"/v1/runs/{kept}/model.onnx")
        assert onnx_model.status_code == 200, onnx_model.text
        assert onnx.load_from_string(onnx_model.content).graph.output[1].name == "activity"

        assert api.get(f"/v1/runs/{deleted}/model.mlmodel").status_code == 200
        assert api.delete(f"/v1/runs/{deleted}").status_code == 204
        assert list(objects.list_objects(f"runs/{deleted}")) == []
        assert files_under(api_settings.home / "cache" / "runs" / deleted) == []
        assert list(objects.list_objects(f"runs/{kept}"))  # the other run is untouched
        assert api.get(f"/v1/runs/{deleted}/model.mlmodel").status_code == 404


@pytest.mark.system
@pytest.mark.turicreate
def test_a_turicreate_run_is_served_from_s3_by_an_api_on_another_host(
    tmp_path, s3_endpoint, s3_url
):
    """Turi Create leaves a model directory, not one file: the API loads it from its copy."""
    database_url = f"sqlite:///{tmp_path / 'shared.db'}"
    upgrade(database_url)
    shared = {"database_url": database_url, "store_url": s3_url, "s3_endpoint_url": s3_endpoint}
    api_settings = Settings(home=tmp_path / "api-host", workers=0, **FAST, **shared)
    api_settings.home.mkdir()

    with LiveServer(api_settings) as live, httpx.Client(base_url=live.url, timeout=120) as api:
        upload_basicmotions(api)
        run_id = start_run(api, engine="turicreate", **RUN_BODY, random_seed=42)
        run_worker_host(tmp_path / "worker-host", **shared)
        run = wait_for(api, run_id, {"succeeded", "failed"}, timeout_s=10)
        assert run["status"] == "succeeded", run["error_message"]
        assert files_under(tmp_path / "worker-host") == []

        rows = basicmotions_rows(["test-003"]).drop_columns(["sessionId", "activity", "split"])
        predicted = api.post(f"/v1/runs/{run_id}/predict", content=csv_bytes(rows), headers=CSV)
        assert predicted.status_code == 200, predicted.text
        assert len(predicted.json()["predictions"]["class"]) == rows.num_rows
        native = api.get(f"/v1/runs/{run_id}/model")
        assert native.status_code == 200 and native.content[:2] == b"PK"  # the zipped model


@pytest.mark.system
def test_a_worker_refuses_to_start_on_a_store_it_cannot_read(tmp_path, s3_endpoint):
    database_url = f"sqlite:///{tmp_path / 'shared.db'}"
    upgrade(database_url)
    environment = serve_environment(
        tmp_path / "worker-host",
        0,
        database_url=database_url,
        store_url="s3://no-such-bucket/motionlab",
        s3_endpoint_url=s3_endpoint,
    )
    command = [sys.executable, "-m", "service.cli", "worker", "--burst"]
    finished = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 2, finished.stderr
    assert "MOTIONLAB_STORE_URL=s3://no-such-bucket/motionlab cannot be read" in finished.stderr
    assert "Check the bucket exists" in finished.stderr
