"""WS /v1/runs/{id}/live and /v1/models/{name}/{ref}/live: a stream answers predict's windows."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from tests.support.basicmotions import FEATURES
from tests.support.live_stream import (
    RECORDING_ROWS,
    assert_same_windows,
    open_stream,
    predict_per_window,
    recording,
    stream_frames,
    ws_url,
)


@pytest.mark.both_databases
def test_streaming_row_by_row_gives_predicts_per_window_answer(served, served_api):
    expected = predict_per_window(served_api, f"/v1/runs/{served.run_id}")
    socket, ready = open_stream(ws_url(served.url, f"/v1/runs/{served.run_id}/live"))
    with socket:
        messages = stream_frames(socket, ({"rows": [row]} for row in recording().tolist()))

    assert ready["run_id"] == served.run_id
    assert ready["features"] == FEATURES and ready["prediction_window"] == 10
    assert ready["classes"] == ["Badminton", "Running", "Standing", "Walking"]
    assert ready["windows_per_state_reset"] == 20
    assert len(expected["window"]) == 30  # the state is reset once, at window 20
    assert expected["num_rows"][-1] == 5  # a last partial window, predicted on "end"
    assert_same_windows(messages, expected)
    assert messages[-1] == {"type": "end", "num_rows": RECORDING_ROWS, "num_windows": 30}


def test_frames_of_random_sizes_give_the_same_windows_and_end_starts_a_new_stream(
    served, served_api
):
    expected = predict_per_window(served_api, f"/v1/runs/{served.run_id}")
    rows = recording()
    sizes = np.random.default_rng(19).integers(1, 40, size=len(rows))
    cuts = np.cumsum(sizes)[np.cumsum(sizes) < len(rows)]
    frames = [{"rows": part.tolist()} for part in np.split(rows, cuts)]
    assert len(frames) > 10
    socket, _ = open_stream(ws_url(served.url, f"/v1/runs/{served.run_id}/live"))
    with socket:
        first = stream_frames(socket, frames)
        again = stream_frames(socket, frames)  # after "end": window 0, zero state again

    assert_same_windows(first, expected)
    assert_same_windows(again, expected)


def test_a_registered_version_streams_rows_given_as_objects(served, served_api):
    name = "LiveGestures"
    registered = served_api.post(f"/v1/models/{name}/versions", json={"run_id": served.run_id})
    assert registered.status_code in (200, 201), registered.text
    expected = predict_per_window(served_api, f"/v1/models/{name}/latest")
    objects = [
        {"timestamp": i / 10, **dict(zip(FEATURES, row, strict=True))}  # extra keys: ignored
        for i, row in enumerate(recording().tolist())
    ]
    frames = [{"rows": objects[i : i + 7]} for i in range(0, len(objects), 7)]
    socket, ready = open_stream(ws_url(served.url, f"/v1/models/{name}/latest/live"))
    with socket:
        messages = stream_frames(socket, frames)

    assert ready["model"] == {"name": name, "version": registered.json()["version"]}
    assert ready["run_id"] == served.run_id
    assert_same_windows(messages, expected)


def test_the_browser_subprotocol_is_selected(served):
    url = ws_url(served.url, f"/v1/runs/{served.run_id}/live")
    socket, _ = open_stream(url, subprotocols=["motionlab.live.v1"])
    with socket:
        assert socket.subprotocol == "motionlab.live.v1"


def test_concurrent_streams_stepped_together_each_get_their_own_windows(served, served_api):
    recordings = [[f"test-{3 * k + i:03d}" for i in range(3)] for k in range(6)]
    path = f"/v1/runs/{served.run_id}"
    expected = [predict_per_window(served_api, path, sessions) for sessions in recordings]

    def stream(sessions: list[str]) -> list[dict]:
        socket, _ = open_stream(ws_url(served.url, f"{path}/live"))
        with socket:  # frames of 3 rows: the streams' windows complete close together
            rows = recording(sessions).tolist()
            return stream_frames(socket, ({"rows": rows[i : i + 3]} for i in range(0, 295, 3)))

    with ThreadPoolExecutor(len(recordings)) as pool:
        streamed = list(pool.map(stream, recordings))
    for messages, windows in zip(streamed, expected, strict=True):
        assert_same_windows(messages, windows)
