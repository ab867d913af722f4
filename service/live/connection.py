"""One live classification connection: handshake, frames in, predictions out, close.

Before the handshake completes, an unknown run (404) or an unfinished one (409) is answered
with the API's problem+json, as an HTTP request would be.
Afterwards each frame is read, its windows predicted (with the windows other streams of the
model wait on: batching.py) and answered before the next frame is read: predictions leave in
order, and a client sending faster than the model keeps up is held back by TCP (uvicorn
stops reading a connection until its last frame has been taken).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from core.settings import Settings
from service.errors import ServiceError, render
from service.http import in_unit_of_work
from service.live.batching import batcher_for
from service.live.protocol import (
    SUBPROTOCOL,
    CloseCode,
    Frame,
    FrameError,
    FrameLimits,
    close_reason,
    parse_frame,
    prediction_message,
)
from service.live.service import LiveModel
from workers.live import LiveStream
from workers.model.shape import WINDOWS_PER_CHUNK

log = logging.getLogger("motionlab.live")


async def serve_stream(
    websocket: WebSocket, load: Callable[..., LiveModel], **arguments: Any
) -> None:
    settings: Settings = websocket.app.state.settings
    try:
        live = await in_unit_of_work(websocket, load, settings=settings, **arguments)
    except ServiceError as error:
        await _deny(websocket, error)
        return
    offered = websocket.scope.get("subprotocols", [])
    await websocket.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    run_id = live.header["run_id"]
    log.info("live stream opened run_id=%s", run_id)
    limits = FrameLimits(settings.live_max_frame_bytes, settings.live_max_rows_per_frame)
    ready = {
        "type": "ready",
        **live.header,
        "windows_per_state_reset": WINDOWS_PER_CHUNK,
        "limits": {
            "max_frame_bytes": limits.max_bytes,
            "max_rows_per_frame": limits.max_rows,
            "idle_timeout_s": settings.live_idle_timeout_s,
        },
    }
    batcher = batcher_for(websocket.app.state, live.model)
    stream = LiveStream(live.model.prediction_window, len(live.model.features), batcher.step)
    try:
        await websocket.send_text(json.dumps(ready))
        while True:
            frame = await _next_frame(websocket, live, limits, settings.live_idle_timeout_s)
            if frame is None:
                break
            for message in await _answer(stream, frame, live.header["classes"]):
                await websocket.send_text(json.dumps(message))
    except FrameError as error:
        log.info("live stream refused a frame run_id=%s code=%d: %s", run_id, error.code, error)
        await _close(websocket, error.code, error.detail)
    except WebSocketDisconnect:
        pass
    except Exception:
        log.exception("live stream failed run_id=%s", run_id)
        await _close(websocket, CloseCode.INTERNAL, "internal error: see the server's log")
    log.info("live stream closed run_id=%s rows=%d", run_id, stream.num_rows)


async def _next_frame(
    websocket: WebSocket, live: LiveModel, limits: FrameLimits, idle_timeout_s: float
) -> Frame | None:
    """The next client frame; None once the client has gone."""
    try:
        async with asyncio.timeout(idle_timeout_s):
            message = await websocket.receive()
    except TimeoutError:
        raise FrameError(
            CloseCode.IDLE,
            f"no frame for {idle_timeout_s:g} s: send rows more often, or reconnect when "
            "there are rows to classify",
        ) from None
    if message["type"] == "websocket.disconnect":
        return None
    text = message.get("text")
    if text is None:
        raise FrameError(
            CloseCode.UNSUPPORTED_DATA,
            'binary frames are not accepted: send JSON text frames {"rows": [[…], …]}',
        )
    return parse_frame(text, live.header["features"], limits)


async def _answer(stream: LiveStream, frame: Frame, classes: list[Any]) -> list[dict[str, Any]]:
    """The messages a frame brings: a prediction per completed window, then "end"."""
    predictions = await stream.push(frame.rows)
    messages = [prediction_message(p, classes) for p in predictions]
    if frame.end:
        end = await stream.finish()
        if end.last is not None:
            messages.append(prediction_message(end.last, classes))
        messages.append({"type": "end", "num_rows": end.num_rows, "num_windows": end.num_windows})
    return messages


async def _deny(websocket: WebSocket, error: ServiceError) -> None:
    """Refuse the handshake: the problem+json HTTP answer, or a close where the server cannot."""
    log.info("live stream refused path=%s status=%d", websocket.url.path, error.status_code)
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(render(websocket, error))
    else:
        await websocket.close(CloseCode.POLICY, close_reason(error.detail))


async def _close(websocket: WebSocket, code: CloseCode, detail: str) -> None:
    """An "error" message with the whole detail, then the close frame with it cut to fit."""
    try:
        await websocket.send_text(json.dumps({"type": "error", "code": code, "detail": detail}))
        await websocket.close(code, close_reason(detail))
    except (WebSocketDisconnect, RuntimeError):  # the client has gone meanwhile
        pass
