"""The README's download commands name their files: every run's model lands in its own."""

from __future__ import annotations

import re
import shlex

import pytest

from tests.support.paths import REPO

pytestmark = pytest.mark.unit

README = REPO / "README.md"
DOWNLOAD = re.compile(r"/model(\.mlmodel)?\b")


def commands(text: str) -> list[str]:
    """The shell commands of the README's code blocks, continuation lines joined."""
    blocks = re.findall(r"```(\w*)\n(.*?)```", text, flags=re.S)
    shell = "\n".join(body for language, body in blocks if language in ("sh", "bash", ""))
    joined = shell.replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if line.strip()]


def test_model_downloads_are_written_where_they_are_told():
    """`curl -OJ` takes the Content-Disposition name, the same for every run
    (GestureClassifier.mlmodel), and refuses to overwrite it: a second run's download is
    silently lost. Each download names its file with -o instead."""
    downloads = [
        c for c in commands(README.read_text()) if c.startswith("curl") and DOWNLOAD.search(c)
    ]
    assert len(downloads) >= 3, downloads
    for command in downloads:
        flags = [word for word in shlex.split(command.split("#")[0]) if re.match(r"-[^-]", word)]
        assert not any("J" in flag for flag in flags), command
        assert any(flag.endswith("o") for flag in flags), command
