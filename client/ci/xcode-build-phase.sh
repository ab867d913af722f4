#!/bin/sh
# Xcode: the app target › Build Phases › + › New Run Script Phase, moved above "Compile
# Sources", with this script as its body (or `sh "$SRCROOT/ci/xcode-build-phase.sh"`). Every
# build fetches the model its alias points at; nothing is downloaded while the file is the
# current one (ETag). Offline, the build goes on with the file already there, with a warning.
#
# The client: `python3 -m venv ~/.motionlab && ~/.motionlab/bin/pip install <motionlab>/client`
# MOTIONLAB_URL / MOTIONLAB_TOKEN: the server and a `read` token (the scheme's environment).
set -eu
motionlab=${MOTIONLAB:-$HOME/.motionlab/bin/motionlab}
model=${MODEL:-GestureClassifier}
alias=${ALIAS:-production}
output=${OUTPUT:-$SRCROOT/$model.mlmodel}

if "$motionlab" pull "$model" --alias "$alias" -o "$output"; then
    exit 0
elif [ -f "$output" ]; then
    # Xcode lists a line starting with "warning:" among the build's warnings.
    echo "warning: motionlab: $model ($alias) not fetched; building with the $output already there"
else
    echo "error: motionlab: $model ($alias) not fetched, and $output does not exist yet"
    exit 1
fi
