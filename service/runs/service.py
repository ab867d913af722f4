"""Runs: resolve and freeze a request into a queued run; read, list, cancel."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections import Counter
from typing import cast

from sqlalchemy import Table, func, nulls_last, select
from sqlalchemy.orm import Session

from core import runs as state
from core.db import insert_rows
from core.models import Run, RunProgress, RunSession, RunStatus
from core.params import RunParams
from core.recipes import RECIPE_DEFAULTS, count_chunks, default_max_iterations
from core.splits import SessionRef, assign_parts
from service.errors import Conflict, InvalidInput, NotFound
from service.runs.features import resolve_features, unit_warnings
from service.runs.inputs import model_inputs
from service.runs.schemas import RunCreate
from service.runs.selection import SessionRow, check_window, select_sessions
from service.sessions.stats import sample_rate_warnings
from workers.engines.base import Engine, base_versions
from workers.engines.registry import engines
from workers.summary import SUMMARY_METRICS

TARGETS = ("activity", "subject")
RUN_COLUMNS = ("created_at", "finished_at", "name", "status")
SUMMARY_KEYS = tuple(
    f"{part}_{metric}" for part in ("train", "validation", "test") for metric in SUMMARY_METRICS
)
SORT_PATTERN = f"^[-+]?({'|'.join((*RUN_COLUMNS, *SUMMARY_KEYS))})$"  # documents list_runs
# A run's frozen sessions as create_run inserts them, in the model's column order.
RUN_SESSION_COLUMNS = (
    "run_id",
    "position",
    "session_id",
    "blob_sha256",
    "sources",
    "label",
    "subject",
    "part",
)


def new_run_id() -> str:
    return secrets.token_hex(8)


def _label(session: SessionRow, target: str) -> str:
    label = getattr(session, target)
    if label is None:
        raise InvalidInput(
            f"session {session.id!r} has no {target}; choose sessions that all have one"
        )
    return label


def _engine(name: str) -> Engine:
    available = engines()
    if name not in available:
        raise InvalidInput(f"unknown engine {name!r}; available: {', '.join(available)}")
    return available[name]


def _check_available(engine: Engine, remote_engines: frozenset[str]) -> None:
    status = engine.status()
    if not status.available and engine.name not in remote_engines:
        raise InvalidInput(
            f"engine {engine.name!r} is not available on this server: {status.detail}"
        )


def _recipe(request: RunCreate, engine: Engine) -> str:
    """The request's recipe, or its engine's default; an engine trains only its own recipes."""
    if request.recipe is None:
        return engine.default_recipe
    if request.recipe not in engine.recipes:
        others = [e.name for e in engines().values() if request.recipe in e.recipes]
        raise InvalidInput(
            f"the {engine.name} engine trains only the {' / '.join(engine.recipes)} recipe, not "
            f"{request.recipe!r}; leave recipe out, or use engine "
            f"{' or '.join(map(repr, others))} for it"
        )
    return request.recipe


def create_run(
    db: Session, *, request: RunCreate, remote_engines: frozenset[str] = frozenset()
) -> Run:
    """Resolve the selection, split and features now and freeze them with the queued run.

    remote_engines: accepted although not installed on this host (workers elsewhere run them).
    """
    engine = _engine(request.engine)
    recipe = _recipe(request, engine)
    _check_available(engine, remote_engines)
    if request.target not in TARGETS:
        raise InvalidInput(f"unknown target {request.target!r}; use one of {', '.join(TARGETS)}")
    chosen = resolve_features(select_sessions(db, selection=request.data), request.features)
    sessions, sources, features = chosen.sessions, chosen.sources, chosen.features
    inputs = model_inputs(request.model, chosen.channels, request.target)
    seed = request.random_seed if request.random_seed is not None else secrets.randbelow(2**31)
    labels = [_label(s, request.target) for s in sessions]
    refs = [SessionRef(s.id, s.subject, s.split) for s in sessions]
    split = request.split
    try:
        parts = assign_parts(
            refs,
            strategy=split.strategy,
            seed=seed,
            valid_fraction=split.valid_fraction,
            test_fraction=split.test_fraction,
        )
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if request.overfit_check:
        train_positions = [i for i, part in enumerate(parts) if part == "train"]
        keep = train_positions[: request.overfit_check.sessions]
        sessions, labels = [sessions[i] for i in keep], [labels[i] for i in keep]
        sources = [sources[i] for i in keep]
        parts = ["train"] * len(keep)
    _check_parts(parts, labels, split.strategy)
    warnings = chosen.warnings + check_window(sessions, request.prediction_window)
    warnings += sample_rate_warnings(sessions) + unit_warnings(chosen, sessions, labels)

    params = RunParams(
        **request.model_dump(
            exclude={
                "engine",
                "experiment",
                "name",
                "features",
                "random_seed",
                "recipe",
                "max_iterations",
            }
        ),
        features=features,
        channels=chosen.channels,
        inputs=inputs,
        random_seed=seed,
        recipe=recipe,
        max_iterations=request.max_iterations or _default_epochs(request, recipe, sessions, parts),
    )
    frozen = [
        (s.id, s.blob_sha256, label, s.subject, part)
        for s, label, part in zip(sessions, labels, parts, strict=True)
    ]
    fingerprinted = {"sessions": frozen, "features": features, "target": request.target}
    if any(source is not None for source in sources):  # runs of canonical columns: as before
        fingerprinted["sources"] = sources
    fingerprint = hashlib.sha256(json.dumps(fingerprinted).encode()).hexdigest()
    run = Run(
        id=new_run_id(),
        experiment=request.experiment,
        name=request.name,
        engine=request.engine,
        status=RunStatus.QUEUED,
        params=params.model_dump(mode="json"),
        data_fingerprint=fingerprint,
        versions=base_versions(),
        attempts=0,
        cancel_requested=False,
        warnings=warnings or None,
        sessions_per_part=dict(Counter(parts)),
    )
    db.add(run)
    db.flush()
    # One executemany at the driver, no ORM object nor bind processing per session; sessions
    # laid out alike share their sources (features.py), serialised once.
    encoded: dict[int, str | None] = {}
    for source in sources:
        if id(source) not in encoded:
            encoded[id(source)] = None if source is None else json.dumps(source)
    insert_rows(
        db,
        cast(Table, RunSession.__table__),
        RUN_SESSION_COLUMNS,
        [
            (run.id, i, sid, sha, encoded[id(source)], label, subject, part)
            for i, ((sid, sha, label, subject, part), source) in enumerate(
                zip(frozen, sources, strict=True)
            )
        ],
    )
    return run


def _default_epochs(
    request: RunCreate, recipe: str, sessions: list[SessionRow], parts: list[str]
) -> int:
    """The recipe's epochs for this run's training part (motionlab: its step budget)."""
    train_rows = (s.row_count for s, part in zip(sessions, parts, strict=True) if part == "train")
    return default_max_iterations(
        recipe,
        num_chunks=count_chunks(train_rows, request.prediction_window),
        batch_size=request.batch_size or RECIPE_DEFAULTS[recipe].batch_size,
    )


def _check_parts(parts: list[str], labels: list[str], strategy: str) -> None:
    train_labels = {label for label, part in zip(labels, parts, strict=True) if part == "train"}
    if not train_labels:
        raise InvalidInput(
            f"the split (strategy {strategy!r}) leaves the training part empty; select sessions "
            "with split 'train', or use another strategy / smaller fractions"
        )
    if len(train_labels) < 2:
        raise InvalidInput(
            f"the training part has only {len(train_labels)} class ({sorted(train_labels)}); a "
            "classifier needs at least 2: select sessions of more activities"
        )
    unseen = {
        label for label, part in zip(labels, parts, strict=True) if part == "valid"
    } - train_labels
    if unseen:
        raise InvalidInput(
            f"the validation part has class(es) {sorted(unseen)} that the training part lacks; "
            "add training sessions of them or change the split"
        )


def get_run(db: Session, *, run_id: str) -> Run:
    run = db.get(Run, run_id)
    if run is None:
        raise NotFound(f"run {run_id!r} does not exist; GET /v1/runs lists them")
    return run


def list_runs(
    db: Session,
    *,
    experiment: str | None,
    status: str | None,
    sort: str,
    limit: int,
    offset: int,
) -> tuple[list[Run], int]:
    query = select(Run)
    if experiment is not None:
        query = query.where(Run.experiment == experiment)
    if status is not None:
        query = query.where(Run.status == status)
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    descending, key = sort.startswith("-"), sort[1:] if sort[:1] in ("-", "+") else sort
    if key in RUN_COLUMNS:
        column = getattr(Run, key)
    elif key in SUMMARY_KEYS:
        column = Run.summary[key].as_float()
    else:
        raise InvalidInput(
            f"cannot sort by {sort[:80]!r}: sort by one of {', '.join(RUN_COLUMNS)} or a "
            "summary metric (train_, validation_ or test_ + accuracy, precision, recall, "
            "f1_score, log_loss, auc), with - first for descending: e.g. -test_accuracy"
        )
    order = nulls_last(column.desc() if descending else column.asc())
    runs = db.scalars(query.order_by(order, Run.created_at.desc()).limit(limit).offset(offset))
    return list(runs), int(total or 0)


def cancel_run(db: Session, *, run_id: str) -> Run:
    """Cancel a queued run at once; ask the worker to stop a running one."""
    run = get_run(db, run_id=run_id)
    if run.status in state.FINISHED:
        raise Conflict(f"run {run_id} already ended ({run.status}); nothing to cancel")
    state.cancel_run(db, run_id=run_id)
    db.refresh(run)
    return run


def change_mark(db: Session, *, run_id: str) -> tuple | None:
    """(status, attempts, last iteration, epoch in progress) of a run, None when it does not
    exist: changes whenever its events would."""
    last_iteration = (
        select(func.max(RunProgress.iteration))
        .where(RunProgress.run_id == run_id)
        .scalar_subquery()
    )
    row = db.execute(
        select(Run.status, Run.attempts, last_iteration, Run.live_progress).where(Run.id == run_id)
    ).first()
    return None if row is None else tuple(row)


def progress(db: Session, *, run_id: str, after: int = 0) -> list[RunProgress]:
    query = (
        select(RunProgress)
        .where(RunProgress.run_id == run_id, RunProgress.iteration > after)
        .order_by(RunProgress.iteration)
    )
    return list(db.scalars(query))


def require_succeeded(run: Run) -> None:
    if run.status != RunStatus.SUCCEEDED:
        raise Conflict(
            f"run {run.id} is {run.status}; this needs a succeeded run"
            + ("" if run.status in state.FINISHED else " (wait for it to finish)")
        )
