"""Live classification refuses what it cannot serve, and closes on bad frames with docs/live.md's
codes, after an "error" message saying what to fix."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from service.live.protocol import CLOSE_CODES, CloseCode
from tests.support.live_stream import open_stream, ws_url
from tests.support.paths import REPO
from tests.support.servers import LiveServer

TRAIN_TOKEN = "train-token-" + "t" * 24
READ_TOKEN = "read-token-" + "r" * 24
IDLE_TIMEOUT_S = 0.5


@pytest.fixture(scope="module")
def guarded(served) -> Iterator[LiveServer]:
    """A second server on the trained home, with tokens and a short idle timeout."""
    tokens = f"phone:train:{TRAIN_TOKEN},ci:read:{READ_TOKEN}"
    update = {"tokens": SecretStr(tokens), "live_idle_timeout_s": IDLE_TIMEOUT_S}
    with LiveServer(served.settings.model_copy(update=update)) as live:
        yield live


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refused(url: str, **options) -> tuple[int, dict]:
    """The HTTP status and problem+json body of a refused handshake."""
    with pytest.raises(InvalidStatus) as refusal:
        connect(url, open_timeout=30, **options)
    response = refusal.value.response
    assert response.headers["Content-Type"] == "application/problem+json"
    return response.status_code, json.loads(response.body)


def closed_after(socket, frame: str | bytes) -> tuple[int, str, dict]:
    """Send `frame`; the close code and reason, and the "error" message before them."""
    socket.send(frame)
    error = json.loads(socket.recv(timeout=30))
    with pytest.raises(ConnectionClosed) as closing:
        socket.recv(timeout=30)
    close = closing.value.rcvd
    assert close is not None
    return close.code, close.reason, error


ROW = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
BAD_FRAMES = {
    "not-json": ("rows: 1,2,3", 4400, "not JSON"),
    "not-an-object": (json.dumps([ROW]), 4400, "JSON object"),
    "unknown-key": (json.dumps({"samples": [ROW]}), 4400, '"rows"'),
    "five-columns": (json.dumps({"rows": [ROW[:5]]}), 4422, "6 numbers"),
    "text-value": (json.dumps({"rows": [[*ROW[:5], "fast"]]}), 4422, "6 numbers"),
    "missing-feature": (json.dumps({"rows": [{"accelX": 1}]}), 4422, "lack the model's"),
    "nan": ('{"rows": [[0, 0, 0, 0, 0, NaN]]}', 4422, "NaN"),
    "too-many-rows": (json.dumps({"rows": [ROW] * 2001}), 1009, "2000-row limit"),
    # Over the 256 KiB limit, under twice that (beyond, the server does not read it: see
    # test_live_hostile.py)
    "too-many-bytes": (json.dumps({"rows": [ROW * 50] * 300}), 1009, "byte limit"),
    "binary": (json.dumps({"rows": [ROW]}).encode(), 1003, "binary"),
}


@pytest.mark.parametrize("kind", sorted(BAD_FRAMES))
def test_a_bad_frame_closes_with_its_documented_code(served, kind):
    frame, code, words = BAD_FRAMES[kind]
    socket, _ = open_stream(ws_url(served.url, f"/v1/runs/{served.run_id}/live"))
    with socket:
        socket.send(json.dumps({"rows": [ROW] * 3}))  # rows before it are fine
        received, reason, error = closed_after(socket, frame)

    assert (received, error["code"]) == (code, code)
    assert words in error["detail"] and reason and len(reason.encode()) <= 123
    assert error["type"] == "error" and error["detail"].startswith(reason.rstrip("…"))


def test_unknown_and_unfinished_runs_are_refused_before_the_handshake(served):
    status, problem = refused(ws_url(served.url, "/v1/runs/no-such-run/live"))
    assert status == 404 and "GET /v1/runs" in problem["detail"]
    status, problem = refused(ws_url(served.url, f"/v1/runs/{served.queued_run_id}/live"))
    assert status == 409 and "needs a succeeded run" in problem["detail"]
    status, problem = refused(ws_url(served.url, "/v1/models/NoSuchModel/latest/live"))
    assert status == 404


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_refused_handshake_logs_no_error(served, guarded):
    """uvicorn logged "ASGI callable returned without completing handshake" at ERROR after
    every refusal answered with an HTTP status (a route's 404, the guard's 401)."""
    collected = Collected()
    server_log = logging.getLogger("uvicorn.error")
    server_log.addHandler(collected)
    try:
        assert refused(ws_url(served.url, "/v1/runs/no-such-run/live"))[0] == 404
        assert refused(ws_url(guarded.url, f"/v1/runs/{served.run_id}/live"))[0] == 401
        time.sleep(0.5)  # the server logs once the app has returned, after the answer left
    finally:
        server_log.removeHandler(collected)
    assert [record.getMessage() for record in collected.records] == []


def test_tokens_are_required_with_the_predict_scope(served, guarded):
    url = ws_url(guarded.url, f"/v1/runs/{served.run_id}/live")
    status, problem = refused(url)
    assert status == 401 and "scope 'train'" in problem["detail"]
    status, problem = refused(url, additional_headers=bearer(READ_TOKEN))
    assert status == 403 and "needs 'train'" in problem["detail"]
    status, _ = refused(url, subprotocols=["motionlab.live.v1", "bearer.not-a-token"])
    assert status == 401

    socket, ready = open_stream(url, additional_headers=bearer(TRAIN_TOKEN))
    with socket:
        assert ready["run_id"] == served.run_id
    # A browser: the token as a subprotocol, never echoed back.
    socket, _ = open_stream(url, subprotocols=["motionlab.live.v1", f"bearer.{TRAIN_TOKEN}"])
    with socket:
        assert socket.subprotocol == "motionlab.live.v1"


def test_a_page_of_another_site_cannot_open_a_stream(served, guarded):
    url = ws_url(guarded.url, f"/v1/runs/{served.run_id}/live")
    status, problem = refused(
        url, additional_headers=bearer(TRAIN_TOKEN), origin="http://evil.test"
    )
    assert status == 403 and "origin" in problem["detail"]


def test_an_idle_stream_is_closed(served, guarded):
    url = ws_url(guarded.url, f"/v1/runs/{served.run_id}/live")
    socket, ready = open_stream(url, additional_headers=bearer(TRAIN_TOKEN))
    with socket:
        assert ready["limits"]["idle_timeout_s"] == IDLE_TIMEOUT_S
        error = json.loads(socket.recv(timeout=30))
        with pytest.raises(ConnectionClosed) as closing:
            socket.recv(timeout=30)

    assert closing.value.rcvd is not None and closing.value.rcvd.code == 4408
    assert error["code"] == 4408 and "no frame for 0.5 s" in error["detail"]


@pytest.mark.unit
def test_the_docs_document_every_close_code():
    section = (REPO / "docs" / "live.md").read_text()
    documented = {int(code) for code in re.findall(r"^\| (\d{4}) \|", section, re.MULTILINE)}
    assert documented == {int(code) for code in CloseCode} == {int(c) for c in CLOSE_CODES}
