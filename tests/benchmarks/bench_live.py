"""Live classification latency: 50 phones streaming at once over WebSockets on loopback.

Trains a small BasicMotions model (prediction_window 10, 2 iterations) with `motionlab serve`'s
own worker, then 50 concurrent clients each stream a 10 s recording at 50 Hz (500 rows: 50
windows) at recording speed, in two ways a phone app may send:
* a frame every 100 ms holding the 5 rows recorded since (the usual way);
* a frame per row, every 20 ms (the most frames).
Latency per window: from sending the frame holding the row that completes a window to
receiving that window's prediction. Target (issue #19): p99 ≤ 20 ms. The clients run in
this process, on the same cores as the server, as a load test on one box does.
"""

from __future__ import annotations

import asyncio
import json
import os
import time

import numpy as np
from websockets.asyncio.client import connect

from tests.support.basicmotions import basicmotions_rows
from tests.support.bench_servers import PREDICTION_WINDOW, trained_server

CLIENTS, RATE_HZ, RECORDING_S = 50, 50, 10.0
TARGET_P99_MS = 20.0


def recording(client: int) -> list[list[float]]:
    """500 real BasicMotions rows (5 sessions end to end), a different stretch per client."""
    sessions = [f"test-{(client + i) % 40:03d}" for i in range(5)]
    table = basicmotions_rows(sessions)
    columns = ["accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ"]
    return np.column_stack([table.column(c).to_numpy() for c in columns]).tolist()


async def stream(url: str, rows: list[list[float]], rows_per_frame: int, start_delay_s: float):
    """Stream `rows` at RATE_HZ in frames of `rows_per_frame`; the latency of each window."""
    await asyncio.sleep(start_delay_s)  # phones do not start in step
    sent_at: dict[int, float] = {}
    latencies: list[float] = []
    async with connect(url, max_queue=None) as socket:
        assert json.loads(await socket.recv())["type"] == "ready"

        async def receive() -> None:
            while True:
                message = json.loads(await socket.recv())
                if message["type"] == "end":
                    return
                assert message["type"] == "prediction", message
                if message["window"] in sent_at:  # the last partial window is sent by "end"
                    latencies.append(time.perf_counter() - sent_at[message["window"]])

        receiver = asyncio.create_task(receive())
        started = time.perf_counter()
        for first in range(0, len(rows), rows_per_frame):
            await asyncio.sleep(max(0.0, started + first / RATE_HZ - time.perf_counter()))
            frame = rows[first : first + rows_per_frame]
            last_row = first + len(frame) - 1
            now = time.perf_counter()
            # Windows whose last row is in this frame.
            for window in range(first // PREDICTION_WINDOW, (last_row + 1) // PREDICTION_WINDOW):
                sent_at[window] = now
            await socket.send(json.dumps({"rows": frame}))
        await socket.send(json.dumps({"end": True}))
        await receiver
    return latencies


async def many_streams(url: str, rows_per_frame: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    delays = rng.uniform(0, rows_per_frame / RATE_HZ, size=CLIENTS)
    results = await asyncio.gather(
        *(stream(url, recording(i), rows_per_frame, delays[i]) for i in range(CLIENTS))
    )
    return np.concatenate([np.asarray(r) for r in results])


def bench_live() -> None:
    with trained_server() as (port, run_id):
        url = f"ws://127.0.0.1:{port}/v1/runs/{run_id}/live"
        asyncio.run(many_streams(url, 5))  # warm up: the model loads on first use
        figures = {frame: asyncio.run(many_streams(url, frame)) * 1000 for frame in (5, 1)}

    print(
        f"\nlive: {CLIENTS} clients x a {RECORDING_S:.0f} s recording at {RATE_HZ} Hz, model "
        f"prediction_window={PREDICTION_WINDOW}, {os.cpu_count()} cores (clients on them too)"
    )
    for rows_per_frame, latencies in figures.items():
        p50, p99 = np.percentile(latencies, [50, 99])
        frames_per_s = CLIENTS * RATE_HZ / rows_per_frame
        print(
            f"  {rows_per_frame} row(s) a frame ({frames_per_s:,.0f} frames/s in all, "
            f"{CLIENTS * RATE_HZ / PREDICTION_WINDOW:,.0f} windows/s): {len(latencies):,} windows, "
            f"latency p50 {p50:.2f} ms, p99 {p99:.2f} ms (target <= {TARGET_P99_MS:.0f}), "
            f"max {latencies.max():.1f} ms"
        )
