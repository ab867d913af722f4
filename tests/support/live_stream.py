"""A live classification client over a real WebSocket, and the predictions to compare with."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import numpy as np
from websockets.sync.client import ClientConnection, connect

from tests.support.basicmotions import FEATURES, basicmotions_rows, csv_bytes

# Three stored sessions end to end as one recording: 300 rows, 30 windows of 10 rows (the
# served runs' prediction window), so the LSTM state crosses a reset (window 20); cut to 295
# rows, the last window is partial.
RECORDING_SESSIONS = ["test-003", "test-012", "test-025"]
RECORDING_ROWS = 295


def recording(sessions: list[str] = RECORDING_SESSIONS) -> np.ndarray:
    """(295, 6) rows in feature order."""
    table = basicmotions_rows(sessions).slice(0, RECORDING_ROWS)
    return np.column_stack([table.column(f).to_numpy() for f in FEATURES])


def predict_per_window(api, path: str, sessions: list[str] = RECORDING_SESSIONS) -> dict[str, Any]:
    """POST …/predict?output_frequency=per_window of the recording as one session."""
    table = basicmotions_rows(sessions).slice(0, RECORDING_ROWS)
    table = table.drop_columns(["sessionId", "activity", "split"])
    response = api.post(
        f"{path}/predict",
        content=csv_bytes(table),
        headers={"Content-Type": "text/csv"},
        params={"output_frequency": "per_window", "output_type": "probability_vector"},
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    probabilities = np.array(answer["predictions"]["probability_vector"])  # (W, C)
    classes = np.array(answer["classes"])
    return {**answer["predictions"], "class": classes[probabilities.argmax(axis=1)].tolist()}


def ws_url(http_url: str, path: str) -> str:
    return http_url.replace("http://", "ws://", 1) + path


def open_stream(url: str, **options: Any) -> tuple[ClientConnection, dict[str, Any]]:
    """A connection and its "ready" message."""
    socket = connect(url, open_timeout=30, **options)
    ready = json.loads(socket.recv(timeout=30))
    assert ready["type"] == "ready", ready
    return socket, ready


def stream_frames(socket: ClientConnection, frames: Iterable[dict[str, Any]]) -> list[dict]:
    """Send every frame, then {"end": true}; the messages up to "end" (included)."""
    for frame in frames:
        socket.send(json.dumps(frame))
    socket.send(json.dumps({"end": True}))
    messages = []
    while not messages or messages[-1]["type"] != "end":
        messages.append(json.loads(socket.recv(timeout=30)))
    return messages


def as_columns(predictions: list[dict[str, Any]]) -> dict[str, list]:
    names = ("window", "first_row", "num_rows", "class", "probability_vector")
    return {name: [p[name] for p in predictions] for name in names}


def assert_same_windows(streamed: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    assert [m["type"] for m in streamed[:-1]] == ["prediction"] * len(expected["window"])
    columns = as_columns(streamed[:-1])
    for name in ("window", "first_row", "num_rows", "class"):
        assert columns[name] == expected[name], name
    np.testing.assert_allclose(
        columns["probability_vector"], expected["probability_vector"], rtol=0, atol=1e-5
    )
