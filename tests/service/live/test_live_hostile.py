"""Live frames an adversarial probe sent (issue 26, defects 6 and 7): bounded where uvicorn
reads them, refused with the codes the README gives.

Permessage-deflate frames were inflated up to 16 MiB before the 256 KiB frame check (50
sockets: +830 MB); a deeply nested frame closed with 1011 (RecursionError) where HTTP answers
400; `true` and "1.5" passed as numbers. (A client streaming faster than the model is held
back, not closed: tests/service/test_hostile_server.py, which streams for longer than
uvicorn's keepalive ping took to close it.)
"""

from __future__ import annotations

import json
import logging

import pytest
from websockets.exceptions import ConnectionClosed

from service.app import create_app
from tests.support.live_stream import open_stream, ws_url

ROW = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]


def live_url(served) -> str:
    return ws_url(served.url, f"/v1/runs/{served.run_id}/live")


def close_of(socket) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as closing:
        while True:
            socket.recv(timeout=30)
    close = closing.value.rcvd
    assert close is not None
    return close.code, close.reason


def test_the_server_does_not_negotiate_compression(served):
    socket, _ = open_stream(live_url(served), compression="deflate")
    with socket:
        assert socket.protocol.extensions == []
        socket.send(json.dumps({"rows": [ROW] * 10}))
        assert json.loads(socket.recv(timeout=30))["type"] == "prediction"


def test_a_frame_past_twice_the_limit_is_closed_before_it_is_read_whole(served):
    frame = json.dumps({"rows": [ROW * 50] * 1000})  # 1.5 MB: the limit is 256 KiB
    assert len(frame) > 2 * served.settings.live_max_frame_bytes
    socket, _ = open_stream(live_url(served))
    with socket:
        socket.send(frame)
        code, reason = close_of(socket)
    assert code == 1009 and "exceeds limit" in reason


@pytest.mark.parametrize(
    ("frame", "code", "words"),
    [
        ('{"rows": ' + "[" * 100_000 + "]" * 100_000 + "}", 4400, "nested too deeply"),
        (json.dumps({"rows": [[*ROW[:5], True]]}), 4422, "6 numbers"),
        (json.dumps({"rows": [[*ROW[:5], "1.5"]]}), 4422, "6 numbers"),
    ],
    ids=["nested", "true", "text-number"],
)
def test_frames_that_http_refuses_are_closed_with_their_documented_code(served, frame, code, words):
    socket, _ = open_stream(live_url(served))
    with socket:
        socket.send(frame)
        error = json.loads(socket.recv(timeout=30))
        received, _ = close_of(socket)
    assert (error["type"], error["code"], received) == ("error", code, code)
    assert words in error["detail"]


def test_a_row_object_with_true_for_a_feature_is_4422(served):
    socket, ready = open_stream(live_url(served))
    row = dict(zip(ready["features"], ROW, strict=True)) | {ready["features"][2]: True}
    with socket:
        socket.send(json.dumps({"rows": [row]}))
        error = json.loads(socket.recv(timeout=30))
        received, _ = close_of(socket)
    assert error["code"] == received == 4422


def test_a_token_in_the_query_never_reaches_the_log(settings):
    """The API reads no ?token= (a browser offers it as a subprotocol), but one sent anyway
    landed in the access log's request line."""
    create_app(settings)  # installs the filter on uvicorn's loggers
    secret = "mlt_0123abcd_" + "s" * 40
    # What uvicorn's own handlers would write. Not caplog: once a test has run uvicorn in this
    # process, its loggers are at the server's level and no longer propagate to the root.
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    loggers = [logging.getLogger(name) for name in ("uvicorn.error", "uvicorn.access")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        loggers[0].info(
            '%s - "WebSocket %s" [accepted]', "127.0.0.1:5", f"/v1/runs/r/live?token={secret}"
        )
        loggers[1].info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5",
            "GET",
            f"/v1/runs?a=1&access_token={secret}",
            "1.1",
            200,
        )
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
    assert len(lines) == 2 and not any(secret in line for line in lines)
    assert "live?token=[redacted]" in lines[0] and "a=1&access_token=[redacted]" in lines[1]
