"""Runs runner.py in the Turi Create env as a watched child process."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import signal
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from workers.engines.turicreate.environment import availability, python_path, venv_dir

RUNNER = Path(__file__).with_name("runner.py")
POLL_INTERVAL_S = 0.2  # how often should_stop is asked while the runner is quiet
TERMINATE_GRACE_S = 5.0  # SIGTERM → SIGKILL
STDERR_TAIL_LINES = 40

log = logging.getLogger("motionlab.engine.turicreate")


class TuricreateError(RuntimeError):
    """The runner failed; the message carries its own explanation (last stderr lines)."""

    def __init__(self, message: str, *, returncode: int | None = None, stderr_tail: str = ""):
        super().__init__(message)
        self.returncode = returncode
        self.stderr_tail = stderr_tail


class EngineUnavailable(TuricreateError):
    """No usable Python 3.8 env; the message says how to create it."""


class RunnerCanceled(TuricreateError):
    """should_stop() said stop; the runner's process group was terminated."""


def run_runner(
    args: list[Any],
    *,
    on_event: Callable[[dict[str, Any]], None],
    should_stop: Callable[[], bool] | None,
    timeout_s: float | None,
    venv: Path | None,
    while_starting: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Run runner.py to the end; returns its final 'done' event.

    while_starting: work done while the runner starts (it imports TensorFlow and Turi Create:
    seconds), e.g. writing its data; the runner (started with `--wait`) then gets `go`.
    """
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    with tempfile.TemporaryDirectory(prefix="motionlab-tc-") as scratch:
        stdin = subprocess.DEVNULL if while_starting is None else subprocess.PIPE
        process, lines, tail, readers = start_runner(args, venv=venv, scratch=scratch, stdin=stdin)
        try:
            if while_starting is not None:
                assert process.stdin is not None
                while_starting()
                with contextlib.suppress(BrokenPipeError):  # it died meanwhile: its tail says why
                    process.stdin.write("go\n")
                    process.stdin.close()
            done = _follow(process, lines, on_event, should_stop, deadline)
        finally:
            if process.poll() is None:  # canceled, timed out, or a callback raised
                terminate(process)
            process.wait()
            for reader in readers:
                reader.join(timeout=5)
    log.info("turicreate runner ended pid=%s returncode=%s", process.pid, process.returncode)
    if process.returncode != 0:
        raise failure(process.returncode, list(tail))
    if done is None:
        raise TuricreateError("the Turi Create runner ended without its final 'done' line")
    return done


def start_runner(
    args: list[Any], *, venv: Path | None, scratch: str, stdin: int = subprocess.DEVNULL
) -> tuple[subprocess.Popen, queue.Queue[str | None], deque[str], list[threading.Thread]]:
    """runner.py started, with threads queueing its stdout lines and keeping its stderr's tail.

    Turi Create's scratch SFrames and server log, and TensorFlow's generated code (TMPDIR),
    go to `scratch`, which the caller removes.
    """
    env_dir = Path(venv or venv_dir())
    state = availability(venv=env_dir)
    if not state.available:
        raise EngineUnavailable(state.reason)
    command = [str(python_path(env_dir)), "-I", str(RUNNER), *map(str, args)]
    env = {
        **os.environ,
        "TMPDIR": scratch,
        "TURI_CACHE_FILE_LOCATIONS": scratch,
        "TURI_LOG_PATH": scratch,
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    process = subprocess.Popen(
        command,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # one process group: cancel reaches every descendant
    )
    log.info("turicreate runner started pid=%s command=%s", process.pid, args[0])
    lines: queue.Queue[str | None] = queue.Queue()
    tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
    readers = [
        threading.Thread(target=_pump_stdout, args=(process.stdout, lines), daemon=True),
        threading.Thread(target=_pump_stderr, args=(process.stderr, tail), daemon=True),
    ]
    for reader in readers:
        reader.start()
    return process, lines, tail, readers


def _follow(
    process: subprocess.Popen,
    lines: queue.Queue[str | None],
    on_event: Callable[[dict[str, Any]], None],
    should_stop: Callable[[], bool] | None,
    deadline: float | None,
) -> dict[str, Any] | None:
    """Hand each event on until stdout closes and the runner has exited; the 'done' event."""
    done, stdout_open = None, True
    while stdout_open or process.poll() is None:
        if should_stop is not None and should_stop():
            raise RunnerCanceled("the Turi Create run was canceled")
        if deadline is not None and time.monotonic() > deadline:
            raise TuricreateError("the Turi Create runner ran past its time limit")
        if not stdout_open:  # it is exiting (Turi Create's shutdown can take a moment)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(POLL_INTERVAL_S)
            continue
        try:
            line = lines.get(timeout=POLL_INTERVAL_S)
        except queue.Empty:
            continue
        if line is None:
            stdout_open = False
            continue
        event = parse_event(line)
        if event is not None:
            done = event if event.get("event") == "done" else done
            on_event(event)
    return done


def _pump_stdout(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _pump_stderr(stream: IO[str], tail: deque[str]) -> None:
    for line in stream:
        tail.append(line.rstrip())
        log.debug("turicreate runner: %s", line.rstrip())


def parse_event(line: str) -> dict[str, Any] | None:
    try:
        event = json.loads(line)
    except ValueError:
        event = None
    if not isinstance(event, dict) or "event" not in event:
        log.warning("turicreate runner printed a non-event line: %r", line[:200])
        return None
    return event


def terminate(process: subprocess.Popen) -> None:
    """SIGTERM the runner's process group, SIGKILL it after a grace period."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(TERMINATE_GRACE_S)
    except subprocess.TimeoutExpired:
        log.warning("turicreate runner ignored SIGTERM pid=%s; killing it", process.pid)
    with contextlib.suppress(ProcessLookupError):  # and anything it left in its group
        os.killpg(process.pid, signal.SIGKILL)


def failure(returncode: int, tail: list[str]) -> TuricreateError:
    errors = [line.removeprefix("error: ") for line in tail if line.startswith("error: ")]
    if errors:
        message = errors[-1]
    elif returncode < 0:
        message = f"the Turi Create runner was killed by signal {-returncode}"
    else:
        message = f"the Turi Create runner failed (exit {returncode}): " + " | ".join(tail[-5:])
    return TuricreateError(message, returncode=returncode, stderr_tail="\n".join(tail))
