"""`motionlab serve`'s uvicorn server, which says where everything is once it listens."""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

log = logging.getLogger("motionlab")


def announce(host: str, port: int) -> None:
    base = f"http://{host}:{port}"
    # Spaces, not punctuation, after each address: a terminal makes the whole token a link.
    log.info("serving the dashboard at %s/  the API at %s/v1  its docs at %s/docs", *[base] * 3)


class AnnouncingServer(uvicorn.Server):
    """uvicorn's server, plus the line with the dashboard's, API's and docs' addresses: last
    at start-up, after uvicorn's own lines, when the socket is listening."""

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.started:
            announce(self.config.host, self.config.port)


def serve_one_process(app: Any, *, host: str, port: int, log_level: str) -> None:
    """uvicorn.run(app, …) of one process, with the announcement."""
    server = AnnouncingServer(uvicorn.Config(app, host=host, port=port, log_level=log_level))
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: uvicorn has shut down already
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
