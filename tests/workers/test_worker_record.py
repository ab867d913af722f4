"""A worker records the end of a run only while the run is still its own."""

from __future__ import annotations

from core.db import make_engine, make_session_factory, unit_of_work
from core.models import Run, RunStatus
from core.params import RunParams
from core.runs import claim_next_run
from workers.run_process import RESULT_FILE
from workers.worker import Worker


def test_a_worker_whose_run_was_reclaimed_records_nothing(settings):
    """Reaped while alive (late heartbeats), the run went to another worker, which executes it
    in the same run directory: the first worker neither reads that execution's files nor
    records an end over the new owner's run."""
    factory = make_session_factory(make_engine(settings.resolved_database_url))
    with unit_of_work(factory) as db:
        params = RunParams(features=["x"], random_seed=1).model_dump(mode="json")
        db.add(Run(id="r1", engine="torch", params=params, data_fingerprint="f" * 64))
    with unit_of_work(factory) as db:
        claim_next_run(db, worker_id="the-new-owner")
    (settings.runs_dir / "r1").mkdir(parents=True)
    (settings.runs_dir / "r1" / RESULT_FILE).write_text("{}")  # not a result it can use

    Worker(settings)._record("r1", 0, None)  # its child exited 0: it believes it succeeded

    with unit_of_work(factory) as db:
        run = db.get_one(Run, "r1")
        assert (run.status, run.claimed_by) == (RunStatus.RUNNING, "the-new-owner")
