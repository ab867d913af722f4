"""The Python client against a live server: real uploads, a real short training run, the
registry, and pull answered 304 when the model has not changed."""

from __future__ import annotations

import gzip
import hashlib

import httpx
import pytest

from motionlab_client import Client, MotionlabError, RunFailed
from tests.support.paths import BASICMOTIONS_CSV
from tests.support.phone_formats import edge_impulse_file, sensor_logger_zip
from tests.support.runs import SHORT_RUN
from tests.support.servers import free_port


@pytest.fixture
def client(live):
    with Client(live.url) as client:
        statuses: list[int] = []
        client.http.event_hooks["response"].append(lambda r: statuses.append(r.status_code))
        client.statuses = statuses  # type: ignore[attr-defined]
        yield client


def test_upload_train_follow_predict_register_and_pull(client, tmp_path, monkeypatch):
    stored = client.upload(BASICMOTIONS_CSV, sample_rate_hz=10)
    assert len(stored) == 80 and all(s["created"] for s in stored)
    assert {s["id"] for s in client.sessions(split="test")} == {f"test-{i:03d}" for i in range(40)}
    assert client.upload(BASICMOTIONS_CSV, sample_rate_hz=10)[0]["created"] is False

    run = client.train(**SHORT_RUN, experiment="client")
    assert run.status == "queued"
    seen: list[dict] = []
    assert run.wait(progress=lambda row, _run: seen.append(row), timeout_s=300) is run
    assert run.status == "succeeded"
    assert [row["iteration"] for row in seen] == [1, 2, 3]  # each iteration once, in order

    metrics = run.metrics()
    assert set(metrics) >= {"train", "test"} and 0 <= metrics["test"]["accuracy"] <= 1
    rows = client.request("GET", "/v1/sessions/test-003/samples").text
    predicted = run.predict(rows, output_frequency="per_window")
    assert predicted["predictions"]["window"] == list(range(10))  # 100 rows, windows of 10

    model = run.download_mlmodel(tmp_path / "mine.mlmodel")
    assert model.changed and model.path.read_bytes()[:2]
    assert model.sha256 == hashlib.sha256(model.path.read_bytes()).hexdigest()

    version = client.register(run, "GestureClassifier")
    assert client.register(run.id, "GestureClassifier")["version"] == version["version"]
    client.set_alias("GestureClassifier", "production", version["version"])
    target = tmp_path / "ci" / "GestureClassifier.mlmodel"
    first = client.pull("GestureClassifier", "production", target)
    assert first.changed and target.read_bytes() == model.path.read_bytes()
    assert client.statuses[-1] == 200
    second = client.pull("GestureClassifier", "production", target)
    assert not second.changed and second.sha256 == first.sha256
    assert client.statuses[-1] == 304  # the server sent no model
    monkeypatch.chdir(tmp_path)  # the default file name lands in the working directory
    onnx = client.pull("GestureClassifier", "production", file_format="onnx")
    assert onnx.changed and onnx.path.name == "GestureClassifier.onnx"
    assert onnx.path.read_bytes() == client.request("GET", f"/v1/runs/{run.id}/model.onnx").content
    assert not client.pull("GestureClassifier", "production", file_format="onnx").changed
    assert [r.id for r in client.runs(experiment="client", sort="-test_accuracy")] == [run.id]


def test_two_runs_download_to_two_files(client, tmp_path, monkeypatch):
    """The Content-Disposition name is the same for every run (GestureClassifier.mlmodel); the
    client names its files after the run, so a second download never overwrites the first."""
    client.upload(BASICMOTIONS_CSV, sample_rate_hz=10)
    runs = [client.train(**{**SHORT_RUN, "max_iterations": 1, "random_seed": s}) for s in (1, 2)]
    monkeypatch.chdir(tmp_path)
    paths = {run.wait(timeout_s=300).download_mlmodel().path.resolve() for run in runs}
    assert paths == {tmp_path / f"GestureClassifier-{run.id}.mlmodel" for run in runs}
    assert all(path.stat().st_size > 0 for path in paths)


def test_a_canceled_run_raises_run_failed(client):
    client.upload(BASICMOTIONS_CSV, sample_rate_hz=10)
    run = client.train(**{**SHORT_RUN, "max_iterations": 200}).cancel()
    with pytest.raises(RunFailed) as failure:
        run.wait(timeout_s=120)
    assert failure.value.run_status == "canceled"
    assert run.wait(check=False).status == "canceled"


def test_errors_carry_the_servers_problem_details(client):
    with pytest.raises(MotionlabError) as missing:
        client.run("no-such-run")
    assert missing.value.status == 404
    assert missing.value.problem["type"] == "urn:motionlab:problem:not-found"
    assert "no-such-run" in str(missing.value)
    with pytest.raises(MotionlabError) as invalid:
        client.train(prediction_window=0)
    assert invalid.value.status == 422 and invalid.value.problem["errors"]


@pytest.mark.unit
def test_an_unreachable_server_is_the_same_error_type():
    with Client(f"http://127.0.0.1:{free_port()}") as client, pytest.raises(MotionlabError) as e:
        client.stats()
    assert e.value.status is None and "is `motionlab serve` running" in e.value.detail


def test_url_and_token_come_from_the_environment(live, monkeypatch):
    monkeypatch.setenv("MOTIONLAB_URL", live.url)
    monkeypatch.setenv("MOTIONLAB_TOKEN", "secret-token")
    with Client() as client:
        assert client.url == live.url
        assert client.http.headers["Authorization"] == "Bearer secret-token"


def test_folder_import_labels_by_sub_folder(client, tmp_path):
    """Create ML's layout: data/<activity>/<files>; the subject from a pattern of the path."""
    rows = "timestamp,ax,ay\n" + "".join(f"{i / 10},{i},{-i}\n" for i in range(12))
    data = tmp_path / "data"
    for relative in ("walking/ana-01.csv", "running/ana-02.csv", "running/ben-03.csv"):
        (data / relative).parent.mkdir(parents=True, exist_ok=True)
        (data / relative).write_text(rows)
    (data / "walking" / "ben-04.csv.gz").write_bytes(gzip.compress(rows.encode()))
    (data / "walking" / "notes.txt").write_text("recorded on Monday")
    (data / ".cache").mkdir()
    (data / ".cache" / "x.csv").write_text(rows)

    stored = client.upload(data, sample_rate_hz=10, subject_from=r"/(?P<subject>[a-z]+)-")
    assert sorted(s["id"] for s in stored) == [
        "running-ana-02",
        "running-ben-03",
        "walking-ana-01",
        "walking-ben-04",
    ]
    sessions = {s["id"]: s for s in client.sessions()}
    assert sessions["walking-ben-04"]["activity"] == "walking"
    assert sessions["walking-ben-04"]["subject"] == "ben"
    assert sessions["running-ana-02"]["activity"] == "running"
    assert sessions["running-ana-02"]["subject"] == "ana"
    assert sessions["running-ana-02"]["row_count"] == 12


def test_a_refused_upload_names_the_file(client, tmp_path):
    bad = tmp_path / "walking" / "broken.csv"
    bad.parent.mkdir()
    bad.write_text("timestamp,ax\n0,1\n0.1,not-a-number\n")
    with pytest.raises(MotionlabError) as refused:
        client.upload(tmp_path)
    assert refused.value.status == 422 and refused.value.problem["file"] == str(bad)


@pytest.mark.unit
def test_client_talks_to_any_transport():
    """The client needs nothing but httpx: here an in-process transport answers."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"sessions": 0, "warnings": []})

    with Client("http://motionlab.test", transport=httpx.MockTransport(handler)) as client:
        assert client.stats()["sessions"] == 0


def test_phone_exports_upload_as_files(client, tmp_path):
    """Files keep their names: Edge Impulse's `label.id.json` gives id and label, a Sensor
    Logger zip in a folder is labelled by the folder and named after its path."""
    (tmp_path / "wave.02.json").write_bytes(edge_impulse_file(signed=False, cbor=False))
    [stored] = client.upload(tmp_path / "wave.02.json")
    assert stored["id"] == "wave.02" and stored["features"] == ["accX", "accY", "accZ"]
    assert client.session("wave.02")["activity"] == "wave"

    phone = tmp_path / "phone"
    (phone / "walking").mkdir(parents=True)
    (phone / "walking" / "2024-05-01_10-15-00.zip").write_bytes(sensor_logger_zip(seconds=1))
    (phone / "idle").mkdir()
    (phone / "idle" / "desk.cbor").write_bytes(edge_impulse_file(signed=True, cbor=True))
    stored = client.upload(phone)
    assert sorted(s["id"] for s in stored) == ["idle-desk", "walking-2024-05-01_10-15-00"]
    walking = client.session("walking-2024-05-01_10-15-00")
    # Sensor Logger's Accelerometer.csv is user acceleration (gravity removed), in m/s².
    assert walking["activity"] == "walking" and walking["features"][:3] == [
        "userAccelX",
        "userAccelY",
        "userAccelZ",
    ]
    assert [c["unit"] for c in walking["channels"][:3]] == ["m/s2"] * 3
