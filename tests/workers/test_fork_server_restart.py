"""A worker's fork server killed under a run (issue 26, defect 8): the run did nothing wrong.

The run's process asks to die with its parent, the fork server; when the server was killed,
the run failed as if it had been killed itself ("signal 9, out of memory?"). The worker now
starts a new fork server and runs the run again, in the same attempt.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.support.homes import FAST
from tests.support.processes import process_tree
from tests.support.runs import (
    LONG_RUN_ITERATIONS,
    long_run,
    running_workers,
    wait_for,
    wait_for_progress,
)

pytestmark = [pytest.mark.system, pytest.mark.both_databases]  # workers, a run trained twice


@pytest.fixture
def settings(settings):
    return settings.model_copy(update=FAST)


def fork_servers(worker_pid: int) -> list[int]:
    """The worker's children that are fork servers (the runs they fork share their command)."""
    return [
        pid
        for pid in process_tree(worker_pid)
        if b"multiprocessing.forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes()
        and parent(pid) == worker_pid
    ]


def parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_a_run_whose_fork_server_is_killed_runs_again_and_succeeds(api, settings):
    run_id = long_run(api)
    with running_workers(settings, 1) as [worker]:
        wait_for_progress(api, run_id)
        [server] = fork_servers(worker.pid)
        os.kill(server, signal.SIGKILL)  # the run's process dies with it
        run = wait_for(api, run_id, {"succeeded", "failed"}, timeout_s=240)
        assert run["status"] == "succeeded", run["error_message"]
        assert run["attempts"] == 1 and worker.is_alive()
        assert len(api.get(f"/v1/runs/{run_id}/progress").json()) == LONG_RUN_ITERATIONS
        [new_server] = fork_servers(worker.pid)
        assert new_server != server
