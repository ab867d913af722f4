"""Runs queued straight into the database, for the state machine's tests."""

from __future__ import annotations

from core.db import unit_of_work
from core.models import Run
from core.params import RunParams

PARAMS = RunParams(features=["x"], random_seed=1).model_dump(mode="json")


def queue(factory, *run_ids: str, engine: str = "torch") -> None:
    with unit_of_work(factory) as db:
        for run_id in run_ids:
            db.add(Run(id=run_id, engine=engine, params=PARAMS, data_fingerprint="f" * 64))
