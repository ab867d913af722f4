"""HTTP routes for sweeps: a grid of run fields, one run per combination."""

from __future__ import annotations

from fastapi import APIRouter, Response

from core.models import Sweep
from core.projects import project_of
from service.deps import SessionDep, SettingsDep
from service.http import Responses
from service.projects.access import project_url
from service.projects.limits import check_queued_runs
from service.runs.router import run_read
from service.sweeps import service
from service.sweeps.schemas import BestRun, SweepCreate, SweepRead

router = APIRouter(tags=["sweeps"])
UNKNOWN_SWEEP: Responses = {404: {"description": "Unknown sweep"}}


def sweep_read(db, sweep: Sweep) -> SweepRead:
    runs = service.sweep_runs(db, sweep_id=sweep.id)
    best = service.best_run(sweep, runs)
    return SweepRead(
        id=sweep.id,
        experiment=sweep.experiment,
        run=sweep.base,
        grid=sweep.grid,
        metric=sweep.metric,
        created_at=sweep.created_at,
        status_counts=service.status_counts(runs),
        best=None
        if best is None
        else BestRun(
            run_id=best[0].id,
            value=best[1],
            values=service.grid_values(best[0], sweep.grid),
        ),
        runs=[run_read(run) for run in runs],
    )


@router.post(
    "/sweeps",
    status_code=201,
    response_model=SweepRead,
    responses={
        201: {"description": "Created; its runs are queued. Location is the sweep"},
        409: {"description": "The project's limit of queued runs is reached"},
        422: {"description": "Invalid grid, too many combinations, or an invalid combination"},
    },
)
def create_sweep(
    db: SessionDep, settings: SettingsDep, request: SweepCreate, response: Response
) -> SweepRead:
    """Queue one run per combination of the grid, all in one experiment."""
    sweep = service.create_sweep(db, request=request, remote_engines=settings.remote_engine_names)
    check_queued_runs(db, settings.project_max_queued_runs)
    response.headers["Location"] = project_url(project_of(db), f"sweeps/{sweep.id}")
    return sweep_read(db, sweep)


@router.get("/sweeps/{sweep_id}", response_model=SweepRead, responses=UNKNOWN_SWEEP)
def get_sweep(db: SessionDep, sweep_id: str) -> SweepRead:
    """A sweep: its runs, their statuses, and the best by its validation metric."""
    return sweep_read(db, service.get_sweep(db, sweep_id=sweep_id))


@router.post("/sweeps/{sweep_id}/cancel", response_model=SweepRead, responses=UNKNOWN_SWEEP)
def cancel_sweep(db: SessionDep, sweep_id: str) -> SweepRead:
    """Cancel the sweep's runs that have not ended: queued at once, running within seconds."""
    return sweep_read(db, service.cancel_sweep(db, sweep_id=sweep_id))
