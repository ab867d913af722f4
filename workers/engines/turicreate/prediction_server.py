"""One long-lived `runner.py serve` per process and Turi Create env, for predictions.

Starting Python 3.8, TensorFlow and Turi Create took ~3.4 s of every prediction when each
request ran its own runner. The server starts on the first prediction, answers them one at a
time (Turi Create is not thread-safe), keeps its loaded models, and is started again when it
has died. A request that times out or breaks the protocol ends it: the next starts afresh.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from workers.engines.turicreate.environment import venv_dir
from workers.engines.turicreate.process import (
    TuricreateError,
    failure,
    parse_event,
    start_runner,
    terminate,
)

log = logging.getLogger("motionlab.engine.turicreate")
PREDICT_TIMEOUT_S = 600.0  # the first request also waits for the server's start (~3 s)


class ServerDied(Exception):
    pass


class PredictionServer:
    def __init__(self, venv: Path):
        self.venv = venv
        self.lock = threading.Lock()
        self.process: subprocess.Popen | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.tail: deque[str] = deque()
        self.scratch: str | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def predict(self, request: dict[str, Any], *, timeout_s: float | None = None) -> dict:
        """The runner's "done" event for one predict request (see runner.py's serve).

        A server found dead while asking (it may die between two requests) is replaced and
        asked once more: a prediction can safely be asked twice.
        """
        deadline = time.monotonic() + (timeout_s or PREDICT_TIMEOUT_S)
        with self.lock:
            for attempt in (1, 2):
                fresh = self.process is None or self.process.poll() is not None
                process = self._running()
                try:
                    assert process.stdin is not None
                    process.stdin.write(json.dumps(request) + "\n")
                    process.stdin.flush()
                    return self._answer(deadline)
                except (ServerDied, BrokenPipeError):
                    self.stop()
                    if fresh or attempt == 2:
                        raise failure(process.returncode, list(self.tail)) from None
                except TuricreateError as error:
                    if error.returncode != 2:  # not bad input: the server's state is unknown
                        self.stop()
                    raise
                except BaseException:
                    self.stop()
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _running(self) -> subprocess.Popen:
        if self.process is not None and self.process.poll() is None:
            return self.process
        if self.process is not None:
            log.warning("turicreate prediction server pid=%s died; starting another", self.pid)
            self.stop()
        self.scratch = tempfile.mkdtemp(prefix="motionlab-tc-serve-")
        self.process, self.lines, self.tail, _ = start_runner(
            ["serve"], venv=self.venv, scratch=self.scratch, stdin=subprocess.PIPE
        )
        return self.process

    def _answer(self, deadline: float) -> dict:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TuricreateError("the Turi Create prediction ran past its time limit")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:  # stdout closed: the server died
                raise ServerDied()
            event = parse_event(line)
            if event is None or event["event"] in ("ready", "iteration"):
                continue
            if event["event"] == "error":
                raise TuricreateError(event["message"], returncode=event.get("status"))
            return event

    def stop(self) -> None:
        if self.process is not None:
            if self.process.stdin is not None:
                with contextlib.suppress(OSError):
                    self.process.stdin.close()
            if self.process.poll() is None:
                terminate(self.process)
            self.process.wait()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
        self.process, self.scratch = None, None


_SERVERS: dict[Path, PredictionServer] = {}
_SERVERS_LOCK = threading.Lock()


def prediction_server(venv: Path | None = None) -> PredictionServer:
    """This process' server for the env (the default env: MOTIONLAB_TURICREATE_VENV)."""
    env_dir = Path(venv or venv_dir()).resolve()
    with _SERVERS_LOCK:
        if env_dir not in _SERVERS:
            _SERVERS[env_dir] = PredictionServer(env_dir)
        return _SERVERS[env_dir]
