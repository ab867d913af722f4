#!/usr/bin/env bash
# Creates (if needed) the virtualenv VENV and installs this checkout into it, editable:
#
#   scripts/venv.sh VENV PYTHON '.'        motionlab and its dependencies (`make run`)
#   scripts/venv.sh VENV PYTHON '.[dev]'   and the development tools (`make test`, `make lint`)
#
# The installer is uv (pinned below, installed into VENV/.uv by pip from PyPI), which installs
# the same pinned wheels several times faster than pip (figures: docs/benchmarks.md);
# pip does it when uv cannot be installed or fails, or with MOTIONLAB_INSTALLER=pip.
#
# uv reads neither pip.conf nor PIP_* variables. The find-links that pip is given (where a
# machine keeps wheels such as torch's CPU build) are handed to uv, so both pick the same
# wheels: without them an index's default torch would be a multi-GB CUDA build. pip's extra
# indexes are not: uv takes a package from the first index that has it, and a partial local
# mirror would then pin old versions.
set -euo pipefail

usage="usage: $0 VENV PYTHON TARGET"
venv=${1:?$usage}
python=${2:?$usage}
target=${3:?$usage}
uv_version=0.13.10

say() { echo "venv: $*"; }

started=$SECONDS
# Without pip at first: ensurepip costs more than the rest of a uv install (pip and setuptools
# unpacked and compiled); uv puts pip in afterwards (the tests build wheels with it).
if [ ! -x "$venv/bin/python" ]; then
    say "creating $venv with $python"
    "$python" -m venv --without-pip "$venv"
fi
py="$venv/bin/python"
uv="$venv/.uv/bin/uv"

has_pip() { "$py" -m pip --version >/dev/null 2>&1; }

install_with_pip() {
    has_pip || "$py" -m ensurepip --upgrade --default-pip >/dev/null
    "$py" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$py" -m pip install --quiet --disable-pip-version-check -e "$target"
}

# uv, pinned, into the venv's .uv folder: by the interpreter's own pip, else by the venv's.
bootstrap_uv() {
    "$uv" --version 2>/dev/null | grep -q " $uv_version\b" && return 0
    rm -rf "$venv/.uv"
    local installer=$python
    if ! "$python" -m pip --version >/dev/null 2>&1; then
        has_pip || "$py" -m ensurepip --default-pip >/dev/null || return 1
        installer=$py
    fi
    "$installer" -m pip install -qq --disable-pip-version-check --target "$venv/.uv" "uv==$uv_version"
}

install_with_uv() {
    bootstrap_uv || return 1
    local find_links=${PIP_FIND_LINKS:-$("$python" -m pip config get global.find-links 2>/dev/null || true)}
    local args=()
    for location in $find_links; do args+=(--find-links "$location"); done
    "$uv" pip install --quiet --python "$py" "${args[@]}" pip -e "$target"
}

if [ "${MOTIONLAB_INSTALLER:-uv}" = pip ]; then
    install_with_pip
elif ! install_with_uv; then
    say "uv could not install $target; installing with pip instead"
    install_with_pip
fi
say "installed $target into $venv in $((SECONDS - started)) s"
