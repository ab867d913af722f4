"""The download commands of the README and docs/ name their files: every run's model lands in
its own."""

from __future__ import annotations

import re
import shlex

import pytest

from tests.support.doc_blocks import all_blocks

pytestmark = pytest.mark.unit

DOWNLOAD = re.compile(r"/model(\.mlmodel)?\b")


def commands() -> list[str]:
    """The shell commands of the README's and docs/' code blocks, continuation lines joined."""
    shell = "\n".join(b.body for b in all_blocks() if b.language in ("sh", "bash", "shell"))
    joined = shell.replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if line.strip()]


def test_model_downloads_are_written_where_they_are_told():
    """`curl -OJ` takes the Content-Disposition name, the same for every run
    (GestureClassifier.mlmodel), and refuses to overwrite it: a second run's download is
    silently lost. Each download names its file with -o instead."""
    downloads = [c for c in commands() if c.startswith("curl") and DOWNLOAD.search(c)]
    assert len(downloads) >= 3, downloads
    for command in downloads:
        flags = [word for word in shlex.split(command.split("#")[0]) if re.match(r"-[^-]", word)]
        assert not any("J" in flag for flag in flags), command
        assert any(flag.endswith("o") for flag in flags), command
