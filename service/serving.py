"""`motionlab serve`'s uvicorn server: it says where everything is once it listens, and
refuses a WebSocket handshake without logging an error."""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

log = logging.getLogger("motionlab")


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's default WebSocket protocol (websockets-sansio), which logs "ASGI callable
    returned without completing handshake" at ERROR after each refusal that the app answered
    with an HTTP response (401, 403, 404, 409: the denial response extension), as if the app
    had failed. The refusal is the handshake's end: mark it complete, as uvicorn's wsproto
    protocol does (uvicorn pull request 3138, not yet released)."""

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.http.response.body" and not message.get("more_body"):
            self.handshake_complete = True


# uvicorn's `ws`, by import path: `serve --api-processes N` hands it to new processes.
WS_PROTOCOL = f"{__name__}:{WebSocketProtocol.__name__}"


def announce(host: str, port: int, *, https: bool = False) -> None:
    base = f"{'https' if https else 'http'}://{host}:{port}"
    # Spaces, not punctuation, after each address: a terminal makes the whole token a link.
    log.info("serving the dashboard at %s/  the API at %s/v1  its docs at %s/docs", *[base] * 3)


class AnnouncingServer(uvicorn.Server):
    """uvicorn's server, plus the line with the dashboard's, API's and docs' addresses: last
    at start-up, after uvicorn's own lines, when the socket is listening."""

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.started:
            announce(self.config.host, self.config.port, https=self.config.is_ssl)


def serve_one_process(app: Any, *, host: str, port: int, log_level: str, **options: Any) -> None:
    """uvicorn.run(app, …, **options) of one process, with the announcement (https when
    `options` carry a certificate)."""
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, ws=WS_PROTOCOL, **options
    )
    server = AnnouncingServer(config)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: uvicorn has shut down already
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
