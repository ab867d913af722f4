"""A run's files go from the worker's scratch directory to the store, and from the store to
the API of another host; a run whose files cannot be stored does not succeed."""

from __future__ import annotations

import httpx
import pytest

from core.migrate import upgrade
from core.run_artifacts import COMPLETE_MARK, run_artifacts
from core.settings import Settings
from tests.support.homes import FAST
from tests.support.runs import start_run, upload_tiny, wait_for
from tests.support.servers import LiveServer
from workers.worker import Worker

pytestmark = pytest.mark.integration

# What a Turi Create run leaves: nested model files, beside the worker's hand-over files.
SCRATCH = {
    "model.mlmodel": b"coreml",
    "metrics.json": b'{"train": {}}',
    "model/saved_model.bin": b"weights",
    "model/dir_archive.ini": b"[archive]",
    "result.json": b"{}",  # the child's hand-over to its worker: never stored
    "attempt-123.started": b"",
    ".model.mlmodel.9.9.9.tmp": b"a write cut short",
}
STORED = {"model.mlmodel", "metrics.json", "model/saved_model.bin", "model/dir_archive.ini"}


def test_a_run_published_on_one_host_is_read_whole_on_another(tmp_path, store_config):
    worker_host = run_artifacts(Settings(home=tmp_path / "worker-host", **store_config))
    scratch = worker_host.scratch_dir("r1")
    for name, content in SCRATCH.items():
        (scratch / name).parent.mkdir(parents=True, exist_ok=True)
        (scratch / name).write_bytes(content)
    assert worker_host.publish("r1") == len(STORED)
    worker_host.discard_scratch("r1")
    assert not scratch.exists()

    api_host = run_artifacts(Settings(home=tmp_path / "api-host", **store_config))
    assert api_host.file("r1", "metrics.json").read_bytes() == SCRATCH["metrics.json"]
    directory = api_host.directory("r1")
    found = {
        str(path.relative_to(directory))
        for path in directory.rglob("*")
        if path.is_file() and path.name != COMPLETE_MARK
    }
    assert found == STORED
    assert (directory / "model/saved_model.bin").read_bytes() == b"weights"
    with pytest.raises(FileNotFoundError):
        api_host.file("r1", "result.json")

    api_host.delete("r1")
    with pytest.raises(FileNotFoundError):
        run_artifacts(Settings(home=tmp_path / "third-host", **store_config)).file(
            "r1", "model.mlmodel"
        )
    assert not (tmp_path / "api-host" / "cache" / "runs" / "r1").exists()


def test_with_the_store_in_the_home_nothing_is_copied(tmp_path):
    artifacts = run_artifacts(Settings(home=tmp_path / "home"))
    scratch = artifacts.scratch_dir("r1")
    scratch.mkdir(parents=True)
    (scratch / "model.mlmodel").write_bytes(b"coreml")
    assert artifacts.publish("r1") == 0
    artifacts.discard_scratch("r1")  # the scratch directory is the stored run: it stays
    assert artifacts.file("r1", "model.mlmodel") == scratch / "model.mlmodel"
    assert artifacts.directory("r1") == scratch


def test_a_run_whose_files_cannot_be_stored_fails_with_the_reason(tmp_path):
    shared = tmp_path / "shared-volume"
    shared.mkdir()
    (shared / "runs").write_text("not a folder")  # a volume that cannot take the run's files
    settings = Settings(home=tmp_path / "home", workers=0, store_url=shared.as_uri(), **FAST)
    settings.home.mkdir()
    upgrade(settings.resolved_database_url)
    with LiveServer(settings) as live, httpx.Client(base_url=live.url, timeout=60) as api:
        upload_tiny(api)
        run_id = start_run(api, prediction_window=5, max_iterations=1)
        Worker(settings).work(burst=True)
        run = wait_for(api, run_id, {"failed", "succeeded"}, timeout_s=10)
        assert run["status"] == "failed"
        assert "NotADirectoryError" in run["error_message"], run["error_message"]
        assert api.get(f"/v1/runs/{run_id}/model.mlmodel").status_code == 409


def test_stored_files_of_a_run_that_is_gone_are_collected_after_the_grace_period(
    tmp_path, store_config
):
    from core.db import make_engine, make_session_factory, unit_of_work
    from core.models import Run
    from core.run_artifacts import collect_orphan_runs

    settings = Settings(home=tmp_path / "home", **store_config)
    settings.home.mkdir()
    upgrade(settings.resolved_database_url)
    factory = make_session_factory(make_engine(settings.resolved_database_url))
    with unit_of_work(factory) as db:
        db.add(Run(id="live", engine="torch", params={}, data_fingerprint="f"))
    artifacts = run_artifacts(settings)
    for run_id in ("live", "gone"):  # "gone": its row was deleted, its files were not
        artifacts.objects.put_bytes(f"runs/{run_id}/model.mlmodel", b"coreml")
        artifacts.objects.put_bytes(f"runs/{run_id}/model/saved_model.bin", b"weights")

    assert collect_orphan_runs(factory, artifacts, grace_period_s=3600) == 0  # too young
    assert collect_orphan_runs(factory, artifacts, grace_period_s=0) == 1
    remaining = {stored.key for stored in artifacts.objects.list_objects("runs")}
    assert remaining == {"runs/live/model.mlmodel", "runs/live/model/saved_model.bin"}
