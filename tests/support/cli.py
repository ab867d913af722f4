"""The `motionlab` command as a process, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys


def motionlab(*args: str, url: str | None = None, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "MOTIONLAB_LOG_LEVEL": "WARNING", **env}
    if url:
        environment["MOTIONLAB_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
