"""Every shell and Python block of the README and docs/ runs as written, against a live server.

A page is a story: its blocks run in order, in one clean temporary working directory (holding
only `data/`, the bundled data set, as a clone does), so that a later block may use the files
and the shell variables an earlier one made. Each page gets its own `motionlab serve` (migrated
SQLite home in a temporary folder, one worker), as `make run` starts it; it starts while the
page before it runs, so that no page waits for its server alone. The environment is the
one the README gives a user: `.venv/bin` on PATH (`source .venv/bin/activate`), the server's
home as MOTIONLAB_HOME (the clone's `./var`, which `motionlab token` reads). One thing cannot
be as written: the server listens on a free port, not 8000, so `127.0.0.1:8000` in a block
(and the CLI's default, through MOTIONLAB_URL) is that port.

A block fails when it exits non-zero, leaves a file in the repository, or moves a model's
`production` alias to a run with a lower test accuracy than the run it pointed at. A block the
tests cannot run says why in its fence, ```sh {needs: docker}: reported, and kept few.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.doc_blocks import PAGES, Block, blocks
from tests.support.paths import REPO
from tests.support.servers import free_port, serve_environment, wait_until_ready

pytestmark = pytest.mark.system  # `motionlab serve` and the CLI as processes, real training

ADDRESS = "127.0.0.1:8000"
BLOCK_TIMEOUT_S = 600  # a loaded 2-core machine: a block that trains took 239 s
START_TIMEOUT_S = 300  # a loaded machine: the worker's fork server imports torch first

# A block's shell variables are kept for the page's next block: those a fresh bash does not
# have, as `declare -p` writes them, in a state file sourced before the next block.
SHELL_PROLOGUE = 'source "$DOC_STATE"\n'
SHELL_EPILOGUE = """
compgen -v | grep -vxFf "$DOC_BASELINE" | while read -r __doc_name; do
  declare -p "$__doc_name"
done > "$DOC_STATE.next" || true
mv "$DOC_STATE.next" "$DOC_STATE"
"""

PRODUCTION = """
SELECT a.model_name, r.id, json_extract(r.summary, '$.test_accuracy')
FROM model_aliases a
JOIN model_versions v ON v.model_name = a.model_name AND v.version = a.version
JOIN runs r ON r.id = v.run_id
WHERE a.alias = 'production'
"""


def production(home: Path) -> dict[str, tuple[str, float | None]]:
    """Each model's production run and its test accuracy, read from the server's database."""
    with sqlite3.connect(home / "motionlab.db") as db:
        return {model: (run, accuracy) for model, run, accuracy in db.execute(PRODUCTION)}


def untracked_files() -> set[str]:
    """Files in the repository that git does not know and does not ignore."""
    status = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(status.stdout.splitlines())


def run_block(block: Block, work: Path, scratch: Path, env: dict[str, str]) -> None:
    body = block.body.replace(ADDRESS, env["MOTIONLAB_URL"].removeprefix("http://"))
    state = scratch / "shell-state"
    if block.language == "python":
        script = scratch / "block.py"
        script.write_text(body)
        command = ["python", str(script)]
    else:
        script = scratch / "block.sh"
        script.write_text(SHELL_PROLOGUE + body + SHELL_EPILOGUE)
        command = ["bash", "-e", str(script)]  # a pipe ends as in a terminal: `| head` is fine
    result = subprocess.run(
        command,
        cwd=work,
        env={**env, "DOC_STATE": str(state), "DOC_BASELINE": str(scratch / "baseline")},
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT_S,
    )
    assert result.returncode == 0, (
        f"{block.where} ({block.language}) exited {result.returncode}\n--- block\n{block.body}"
        f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
    )


@dataclass
class PageServer:
    """`motionlab serve --migrate` with one worker, as `make run` starts it, on its own home."""

    home: Path
    port: int
    process: subprocess.Popen

    @classmethod
    def start(cls, home: Path) -> PageServer:
        port = free_port()
        environment = serve_environment(home, port, WORKERS="1")
        command = [sys.executable, "-m", "service.cli", "serve", "--migrate"]
        return cls(home, port, subprocess.Popen(command, env=environment))


class PageServers:
    """Each page's server, started when the page before it begins: a server takes tens of
    seconds to be ready (its worker's fork server imports torch), the blocks of a page mostly
    wait on the CLI and training. Stopped when its page ends, reaped at the module's end."""

    def __init__(self, root: Path, pages: list[Path]):
        self.root, self.pages = root, pages
        self.servers: dict[Path, PageServer] = {}

    def _start(self, page: Path) -> PageServer:
        if page not in self.servers:
            home = self.root / str(len(self.servers)) / "home"
            self.servers[page] = PageServer.start(home)
        return self.servers[page]

    def ready(self, page: Path) -> PageServer:
        server = self._start(page)
        following = self.pages[self.pages.index(page) + 1 :] if page in self.pages else []
        if following:
            self._start(following[0])
        wait_until_ready(server.process, server.port, timeout_s=START_TIMEOUT_S)
        return server

    def stop(self, page: Path) -> None:
        self.servers[page].process.terminate()

    def close(self) -> None:
        for server in self.servers.values():
            server.process.terminate()
        for server in self.servers.values():
            server.process.wait(timeout=60)


def user_environment(url: str, home: Path) -> dict[str, str]:
    """The user's shell after the README's set-up: the virtualenv's commands first."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("MOTIONLAB_", "VIRTUAL"))}
    venv_bin = str(Path(sys.executable).parent)
    return {
        **keep,
        "PATH": f"{venv_bin}:{keep['PATH']}",
        "MOTIONLAB_URL": url,
        "MOTIONLAB_HOME": str(home),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


PAGES_WITH_BLOCKS = [page for page in PAGES if any(b.runnable for b in blocks(page))]


@pytest.fixture(scope="module")
def page_servers(request, tmp_path_factory) -> Iterator[PageServers]:
    """The servers of the pages this session runs, in their order."""
    pages = [
        item.callspec.params["page"]
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec")
    ]
    servers = PageServers(tmp_path_factory.mktemp("doc-servers"), pages)
    try:
        yield servers
    finally:
        servers.close()


@pytest.mark.parametrize("page", PAGES_WITH_BLOCKS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_block_of_the_page_runs_as_written(page, tmp_path, page_servers):
    work, scratch = tmp_path / "work", tmp_path / "scratch"
    for folder in (work, scratch):
        folder.mkdir()
    (work / "data").symlink_to(REPO / "data")  # a clone: the data set and `make run`'s .venv
    (work / ".venv").symlink_to(sys.prefix)
    (scratch / "shell-state").touch()
    before = untracked_files()
    server = page_servers.ready(page)
    home = server.home
    try:
        env = user_environment(f"http://127.0.0.1:{server.port}", home)
        baseline = subprocess.run(
            ["bash", "-c", "compgen -v"], env=env, capture_output=True, text=True, check=True
        )
        (scratch / "baseline").write_text(baseline.stdout + "DOC_STATE\nDOC_BASELINE\n")
        for block in (b for b in blocks(page) if b.runnable):
            aliases = production(home)
            started = time.monotonic()
            run_block(block, work, scratch, env)
            print(f"ran {block.where} ({block.language}) in {time.monotonic() - started:.1f} s")
            left = untracked_files() - before
            assert not left, f"{block.where} left files in the repository: {sorted(left)}"
            for model, (run, accuracy) in production(home).items():
                if model in aliases and aliases[model][0] != run:
                    previous = aliases[model][1]
                    assert accuracy is not None and accuracy >= previous, (
                        f"{block.where} moved {model}'s production alias to run {run} "
                        f"(test accuracy {accuracy}) from {aliases[model][0]} ({previous})"
                    )
    finally:
        page_servers.stop(page)
