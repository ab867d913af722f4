"""Where the Turi Create env is and whether it is usable (cheap, cached)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import NamedTuple

VENV_ENV_VAR = "MOTIONLAB_TURICREATE_VENV"
DEFAULT_VENV = Path(__file__).resolve().parents[3] / ".venv-turicreate"
REQUIREMENTS = Path(__file__).with_name("requirements.txt")
STAMP_NAME = ".motionlab-env.json"  # written last by scripts/turicreate_env.sh
ENABLE_HINT = (
    "run `make turicreate-env` (it needs a Python 3.8: MOTIONLAB_TURICREATE_PYTHON, "
    "python3.8 on PATH, or pyenv)"
)


class Availability(NamedTuple):
    available: bool
    version: str | None  # Turi Create's version when available
    reason: str  # what was found, or why not and how to enable it


def venv_dir() -> Path:
    return Path(os.environ.get(VENV_ENV_VAR) or DEFAULT_VENV)


# An env found usable stays so; one that is not is looked for again on each call (a stat of
# its stamp): `make turicreate-env` while the server runs enables the engine, no restart.
_usable: dict[Path, Availability] = {}


def availability(*, venv: Path | None = None) -> Availability:
    """Is the env there and complete? Cached per env path once it is (`cache_clear()`)."""
    path = Path(venv or venv_dir()).absolute()
    if path in _usable:
        return _usable[path]
    found = _look(path)
    if found.available:
        _usable[path] = found
    return found


def _look(venv: Path) -> Availability:
    stamp_path = venv / STAMP_NAME
    if not stamp_path.is_file():
        where = "is incomplete" if venv.exists() else "does not exist"
        return Availability(False, None, f"the Turi Create env {venv} {where}; {ENABLE_HINT}")
    try:
        stamp = json.loads(stamp_path.read_text())
    except (OSError, ValueError) as exc:
        return Availability(False, None, f"cannot read {stamp_path} ({exc}); {ENABLE_HINT}")
    if REQUIREMENTS.is_file():
        wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
        if stamp.get("requirements_sha256") != wanted:
            reason = f"the Turi Create env {venv} was built from older requirements; {ENABLE_HINT}"
            return Availability(False, None, reason)
    try:
        subprocess.run([python_path(venv), "-I", "-c", ""], check=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        reason = f"the Turi Create env's python does not run ({exc}); {ENABLE_HINT}"
        return Availability(False, None, reason)
    version = stamp.get("turicreate")
    found = f"Python {stamp.get('python')}, TensorFlow {stamp.get('tensorflow')}"
    return Availability(True, version, f"Turi Create {version} ({found}) at {venv}")


availability.cache_clear = _usable.clear  # type: ignore[attr-defined]


def python_path(venv: Path | None = None) -> Path:
    return Path(venv or venv_dir()) / "bin" / "python"
