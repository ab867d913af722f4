#!/usr/bin/env bash
# Creates the Python 3.8 virtualenv that runs Turi Create 6.4.1 (motionlab's `turicreate` engine).
#
#   scripts/turicreate_env.sh VENV_DIR                 fail loudly when no Python 3.8 exists
#   scripts/turicreate_env.sh VENV_DIR --if-possible   skip with one line when none exists
#
# The interpreter comes from MOTIONLAB_TURICREATE_PYTHON, else `python3.8` on PATH (a pyenv shim
# counts only if it actually runs), else the newest 3.8.x that pyenv has installed.
# Idempotent: the env is marked complete by a stamp file written last, holding the hash of the
# requirements it was built from; a matching stamp makes a re-run instant, anything else (no
# stamp, an interrupted build, changed requirements) rebuilds the env from scratch.
set -euo pipefail

usage="usage: $0 VENV_DIR [--if-possible]"
venv=${1:?$usage}
if_possible=false
case "${2:-}" in
    "") ;;
    --if-possible) if_possible=true ;;
    *) echo "$usage" >&2; exit 2 ;;
esac

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
requirements="$repo/workers/engines/turicreate/requirements.txt"
# Read by workers/engines/turicreate/environment.py (availability); keep the two in step.
stamp="$venv/.motionlab-env.json"

say() { echo "turicreate-env: $*"; }
die() { echo "turicreate-env: error: $*" >&2; exit 1; }
# No usable interpreter: a hard error for `make turicreate-env`, one line for `make test`.
unavailable() {
    if $if_possible; then say "skipped: $*"; exit 0; fi
    die "$*"
}

requirements_sha256=$(sha256sum "$requirements" | cut -d' ' -f1)

env_is_current() {
    [ -f "$stamp" ] &&
        grep -q "\"requirements_sha256\": \"$requirements_sha256\"" "$stamp" &&
        "$venv/bin/python" -I -c '' >/dev/null 2>&1
}

if env_is_current; then
    $if_possible || say "$venv is up to date"
    exit 0
fi

is_python38() {
    "$1" -I -c 'import sys; sys.exit(sys.version_info[:2] != (3, 8))' >/dev/null 2>&1
}

find_python38() {
    if [ -n "${MOTIONLAB_TURICREATE_PYTHON:-}" ]; then
        echo "$MOTIONLAB_TURICREATE_PYTHON"
        return
    fi
    # A pyenv shim exists for every installed version but fails unless that version is active.
    if command -v python3.8 >/dev/null 2>&1 && is_python38 python3.8; then
        python3.8 -I -c 'import sys; print(sys.executable)'
        return
    fi
    if command -v pyenv >/dev/null 2>&1; then
        local version
        version=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.8\.[0-9]+$' | sort -V | tail -n 1 || true)
        if [ -n "$version" ]; then
            local candidate
            candidate="$(pyenv prefix "$version")/bin/python3.8"
            if is_python38 "$candidate"; then
                echo "$candidate"
                return
            fi
        fi
    fi
}

python=$(find_python38)
# An explicit choice that does not work is a configuration error, never a skip.
if [ -n "${MOTIONLAB_TURICREATE_PYTHON:-}" ] && ! is_python38 "$python"; then
    die "MOTIONLAB_TURICREATE_PYTHON=$python is not a working Python 3.8"
fi
[ -n "$python" ] || unavailable "no Python 3.8 found (set MOTIONLAB_TURICREATE_PYTHON, put python3.8 on PATH, or \`pyenv install 3.8\`); the turicreate engine and its tests are off"
"$python" -I -c 'import venv, ensurepip' >/dev/null 2>&1 ||
    unavailable "$python has no venv/ensurepip module (Debian: apt-get install python3.8-venv)"

# Two builds at once (make run + make test) would trample each other: serialise on a lock that
# lives outside the env, then look again — the other build may have finished it.
if command -v flock >/dev/null 2>&1; then
    exec 9<"$requirements"
    flock 9
    if env_is_current; then
        say "$venv was built meanwhile"
        exit 0
    fi
fi

# Only ever delete what this script made: an (unfinished or outdated) virtualenv, or nothing.
if [ -e "$venv" ] && [ ! -f "$venv/pyvenv.cfg" ] && [ -n "$(ls -A "$venv")" ]; then
    die "$venv exists and is not a virtualenv; refusing to replace it"
fi
say "creating $venv with $python (Turi Create 6.4.1: ~2 GB, a few minutes)"
started=$SECONDS
rm -rf "$venv"
# Temporary files of venv / pip (a killed build leaves 500 MB wheels) stay inside the env.
mkdir -p "$venv/.build-tmp"
export TMPDIR="$venv/.build-tmp"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -qq --no-input --disable-pip-version-check \
    --progress-bar off -r "$requirements" ||
    die "pip could not install $requirements into $venv (it needs PyPI); the env stays incomplete"

# Import what training loads (TensorFlow and coremltools break on a wrong protobuf), then stamp.
TF_CPP_MIN_LOG_LEVEL=2 TURI_LOG_PATH="$venv" "$venv/bin/python" -I - "$requirements_sha256" \
    >"$stamp.partial" 2>"$venv/import-check.log" <<'PY' ||
import json, platform, sys
from importlib.metadata import version

import coremltools  # noqa: F401
import tensorflow  # noqa: F401
import turicreate

print(json.dumps({
    "requirements_sha256": sys.argv[1],
    "python": platform.python_version(),
    "turicreate": turicreate.__version__,
    "tensorflow": version("tensorflow"),
    "protobuf": version("protobuf"),
    "coremltools": version("coremltools"),
}, indent=1))
PY
    die "the new env at $venv cannot import turicreate / tensorflow / coremltools:
$(tail -n 20 "$venv/import-check.log")"
rm -rf "$venv/.build-tmp"
mv "$stamp.partial" "$stamp"
say "created $venv in $((SECONDS - started)) s: $(tr -d '\n' <"$stamp")"
