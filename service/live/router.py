"""WebSocket routes: live classification with a run's model or a registered version's.

WebSockets are not in the OpenAPI document; docs/live.md and the
document's description (service/openapi.py) give the protocol (service/live/protocol.py).
"""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from service.live import service
from service.live.connection import serve_stream

router = APIRouter(tags=["live"])


@router.websocket("/runs/{run_id}/live")
async def run_live(websocket: WebSocket, run_id: str) -> None:
    """Stream sample rows; get one prediction per completed window (scope: train)."""
    await serve_stream(websocket, service.run_model, run_id=run_id)


@router.websocket("/models/{name}/{ref}/live")
async def model_live(websocket: WebSocket, name: str, ref: str) -> None:
    """The same with a version / alias / latest of a registered model."""
    await serve_stream(websocket, service.registered_model, name=name, ref=ref)
