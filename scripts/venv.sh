#!/usr/bin/env bash
# Creates (if needed) the virtualenv VENV and installs this checkout into it, editable:
#
#   scripts/venv.sh VENV PYTHON '.'        motionlab and its dependencies (`make run`)
#   scripts/venv.sh VENV PYTHON '.[dev]'   and the development tools (`make test`, `make lint`)
#
# The installer is uv (pinned below, installed into the venv by pip from PyPI), which installs
# the same pinned wheels several times faster than pip (figures: README, "The two commands");
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

if [ ! -x "$venv/bin/python" ]; then
    say "creating $venv with $python"
    "$python" -m venv "$venv"
fi
py="$venv/bin/python"

install_with_pip() {
    "$py" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$py" -m pip install --quiet --disable-pip-version-check -e "$target"
}

install_with_uv() {
    [ -x "$venv/bin/uv" ] && "$venv/bin/uv" --version 2>/dev/null | grep -q " $uv_version" ||
        "$py" -m pip install -qq --disable-pip-version-check "uv==$uv_version" || return 1
    local find_links=${PIP_FIND_LINKS:-$("$py" -m pip config get global.find-links 2>/dev/null || true)}
    local args=()
    for location in $find_links; do args+=(--find-links "$location"); done
    "$venv/bin/uv" pip install --quiet --python "$py" "${args[@]}" -e "$target"
}

started=$SECONDS
if [ "${MOTIONLAB_INSTALLER:-uv}" = pip ]; then
    install_with_pip
elif ! install_with_uv; then
    say "uv could not install $target; installing with pip instead"
    install_with_pip
fi
say "installed $target into $venv in $((SECONDS - started)) s"
