"""The supervisor of embedded workers knows a worker's id from its process."""

from __future__ import annotations

import os

from workers.supervisor import worker_id_prefix
from workers.worker import Worker


def test_the_supervisor_computes_the_prefix_of_the_id_a_worker_gives_itself(settings):
    assert Worker(settings).id.startswith(worker_id_prefix(os.getpid()))
