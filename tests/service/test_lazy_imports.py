"""torch's libraries are loaded before torch is imported, with Python's lock released
(service.lazy_imports): torch's own import loads its 430 MB library holding the lock, and the
first live stream or prediction after a start paused every request for up to 1.5 s.

Whether the lock is held is a matter of timing (tests/service/test_hostile_server.py polls
/healthz through that first live stream); here, that the preload loads what torch needs, in a
fresh interpreter, and that torch then imports and computes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """
import sys
from service.lazy_imports import import_lazily, load_torch_libraries

def mapped():
    return open("/proc/self/maps").read()

load_torch_libraries()
print("torch" in sys.modules, "libtorch_cpu.so" in mapped(), "libtorch_python.so" in mapped())
torch = import_lazily("torch")
print(float(torch.nn.functional.conv1d(torch.ones(1, 1, 5), torch.ones(1, 1, 3)).sum()))
"""


@pytest.mark.system
def test_torch_libraries_are_loaded_before_torch_is_imported():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["False True True", "9.0"]
