"""What the client finds wrong before sending anything is a MotionlabError too (an InputError),
and a client without a token sends no Authorization header."""

from __future__ import annotations

import httpx
import pytest

from motionlab_client import Client, InputError, MotionlabError, Run

pytestmark = pytest.mark.unit


def no_request(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"nothing should be sent: {request.method} {request.url}")


@pytest.fixture
def offline(monkeypatch) -> Client:
    monkeypatch.delenv("MOTIONLAB_TOKEN", raising=False)
    return Client("http://motionlab.test", transport=httpx.MockTransport(no_request))


def test_a_missing_file_is_a_motionlab_error(offline, tmp_path):
    with pytest.raises(MotionlabError) as upload:
        offline.upload(tmp_path / "rec.csv")
    assert isinstance(upload.value, InputError) and upload.value.status is None
    assert upload.value.message == f"File not found: {tmp_path / 'rec.csv'}: no such file or folder"
    run = Run(offline, {"id": "r1", "status": "succeeded", "params": {}})
    with pytest.raises(MotionlabError) as predict:
        run.predict(str(tmp_path / "rec.csv"), output_frequency="per_window")
    assert "rec.csv: no such file" in predict.value.detail


@pytest.mark.parametrize(
    ("name", "call", "words"),
    [
        ("unknown type", lambda c, p: c.upload(p / "notes.txt"), "unknown file type '.txt'"),
        ("empty folder", lambda c, p: c.upload(p / "empty"), "no .csv"),
        ("bad pattern", lambda c, p: c.upload(p / "data", subject_from="("), "--subject-from"),
        ("unknown format", lambda c, p: c.pull("M", file_format="tflite"), "mlmodel, onnx"),
    ],
)
def test_local_problems_are_motionlab_errors(offline, tmp_path, name, call, words):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "empty").mkdir()
    (tmp_path / "data" / "walking").mkdir(parents=True)
    (tmp_path / "data" / "walking" / "a.csv").write_text("x\n1\n")
    with pytest.raises(InputError) as error:
        call(offline, tmp_path)
    assert words in error.value.detail, name


def test_no_token_no_authorization_header(offline):
    """Not `Bearer None`: a server without tokens answers a request without any."""
    assert "Authorization" not in offline.http.headers
