"""Sweeps: expand a grid of run fields into queued runs of one experiment; read; cancel."""

from __future__ import annotations

import itertools
import json
import secrets
from collections import Counter
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import runs as state
from core.models import Run, Sweep
from service.errors import InvalidInput, NotFound
from service.runs.schemas import RunCreate
from service.runs.service import create_run
from service.sweeps.schemas import LOWER_IS_BETTER, MAX_SWEEP_RUNS, SweepCreate

GRID_FIELDS = frozenset(RunCreate.model_fields) - {"experiment"}
MAX_NAME_LENGTH = 256  # a run's name; by default its grid values


def grid_values(run: Run, grid: dict[str, list[Any]]) -> dict[str, Any]:
    """The run's value of each grid field (engine and name are columns, the rest params)."""
    return {name: run.params.get(name, getattr(run, name, None)) for name in grid}


def combinations(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, the first field varying slowest."""
    unknown = sorted(set(grid) - GRID_FIELDS)
    if unknown:
        raise InvalidInput(
            f"the grid names {unknown[:5]}, which are not run fields; use fields of "
            f"POST /v1/runs: {', '.join(sorted(GRID_FIELDS))}"
        )
    for name, values in grid.items():
        if not values:
            raise InvalidInput(f"the grid gives no values for {name!r}; give at least one")
        canonical = [json.dumps(value, sort_keys=True) for value in values]
        if len(set(canonical)) != len(canonical):
            raise InvalidInput(f"the grid repeats a value of {name!r}; give each value once")
    count = 1
    for values in grid.values():
        count *= len(values)
    if count > MAX_SWEEP_RUNS:
        raise InvalidInput(
            f"the grid has {count} combinations; a sweep may create at most {MAX_SWEEP_RUNS} "
            "runs: give fewer values, or split it into several sweeps"
        )
    names = list(grid)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*grid.values())]


def create_sweep(
    db: Session, *, request: SweepCreate, remote_engines: frozenset[str] = frozenset()
) -> Sweep:
    """Queue one run per grid combination; any invalid combination refuses the whole sweep."""
    if "experiment" in request.run:
        raise InvalidInput("give the experiment once, at the sweep's top level, not in 'run'")
    sweep = Sweep(
        id=secrets.token_hex(8),
        experiment=request.experiment,
        base=request.run,
        grid=request.grid,
        metric=request.metric,
    )
    db.add(sweep)
    db.flush()
    for values in combinations(request.grid):
        body = {**request.run, **values, "experiment": request.experiment}
        name = " ".join(f"{key}={json.dumps(value)}" for key, value in values.items())
        body.setdefault("name", name[:MAX_NAME_LENGTH])
        try:
            run_request = RunCreate.model_validate(body)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise InvalidInput(
                f"the combination {values} is not a valid run: {where}: {first['msg']}"
            ) from None
        try:
            run = create_run(db, request=run_request, remote_engines=remote_engines)
        except InvalidInput as error:
            raise InvalidInput(f"the combination {values}: {error}") from None
        if not run.sessions_per_part.get("valid"):
            raise InvalidInput(
                f"the combination {values} has no validation part, and a sweep picks its best "
                "run on validation (never on test): give 'run' a split with a validation part, "
                'e.g. {"split": {"strategy": "session", "valid_fraction": 0.2}}, or use '
                "sessions stored with split 'valid'"
            )
        run.sweep_id = sweep.id
    db.flush()
    return sweep


def get_sweep(db: Session, *, sweep_id: str) -> Sweep:
    sweep = db.get(Sweep, sweep_id)
    if sweep is None:
        raise NotFound(f"sweep {sweep_id!r} does not exist; POST /v1/sweeps creates one")
    return sweep


def sweep_runs(db: Session, *, sweep_id: str) -> list[Run]:
    query = select(Run).where(Run.sweep_id == sweep_id).order_by(Run.created_at, Run.id)
    return list(db.scalars(query))


def best_run(sweep: Sweep, runs: list[Run]) -> tuple[Run, float] | None:
    """The succeeded run with the best value of the sweep's validation metric."""
    scored = [
        (run, float(run.summary[sweep.metric]))
        for run in runs
        if run.summary is not None and run.summary.get(sweep.metric) is not None
    ]
    if not scored:
        return None
    sign = 1.0 if sweep.metric in LOWER_IS_BETTER else -1.0
    return min(scored, key=lambda pair: sign * pair[1])


def status_counts(runs: list[Run]) -> dict[str, int]:
    return dict(Counter(str(run.status) for run in runs))


def cancel_sweep(db: Session, *, sweep_id: str) -> Sweep:
    """Cancel every run of the sweep that has not ended: queued at once, running soon after."""
    sweep = get_sweep(db, sweep_id=sweep_id)
    for run in sweep_runs(db, sweep_id=sweep_id):
        if run.status not in state.FINISHED:
            state.cancel_run(db, run_id=run.id)
    db.expire_all()
    return sweep
