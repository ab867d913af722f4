"""The model registry: named models, numbered versions (each a succeeded run), movable aliases.

Version numbers are computed inside the registering transaction, serialised per model: on
SQLite the first statement takes the database's write lock, on PostgreSQL the model's row is
locked (SELECT … FOR UPDATE). The (model, version) primary key backs this up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.models import ModelAlias, ModelVersion, RegisteredModel, Run, utcnow
from core.projects import project_of
from core.settings import Settings
from service.audit import service as audit
from service.errors import InvalidInput, NotFound
from service.predictions.schemas import PredictOptions, RowsBody
from service.predictions.service import evaluate as evaluate_run
from service.predictions.service import predict_with_run
from service.registry.schemas import (
    LATEST,
    VERSIONS,
    AliasChange,
    ModelDetail,
    ModelSummary,
    RunBrief,
    VersionDetail,
)
from service.runs import service as runs
from service.runs.artifacts import read_metrics

ALIAS_SET, ALIAS_DELETE = audit.AuditAction.ALIAS_SET, audit.AuditAction.ALIAS_DELETE


def register_version(db: Session, *, name: str, run_id: str) -> ModelVersion:
    """The next version of `name` (created on first use), pointing at a succeeded run.

    Idempotent: a run registered under `name` already answers its existing version.
    """
    run = runs.get_run(db, run_id=run_id)
    runs.require_succeeded(run)
    insert = _dialect_insert(db)
    db.execute(
        insert(RegisteredModel)
        .values(project=project_of(db), name=name, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["project", "name"])
    )
    db.execute(select(RegisteredModel.name).where(RegisteredModel.name == name).with_for_update())
    existing = db.scalar(
        select(ModelVersion)
        .where(ModelVersion.model_name == name, ModelVersion.run_id == run.id)
        .order_by(ModelVersion.version)
        .limit(1)
    )
    if existing is not None:
        return existing
    latest = db.scalar(
        select(func.max(ModelVersion.version)).where(ModelVersion.model_name == name)
    )
    version = ModelVersion(
        model_name=name, version=(latest or 0) + 1, run_id=run.id, created_by=audit.actor()
    )
    db.add(version)
    audit.record(
        db,
        action=audit.AuditAction.VERSION_REGISTER,
        target=_target(name),
        version=version.version,
        run_id=run.id,
    )
    db.flush()
    return version


def set_alias(db: Session, *, name: str, alias: str, version: int) -> ModelAlias:
    """Point `alias` at `version` (create or move it)."""
    if alias == LATEST:
        raise InvalidInput(f"{LATEST!r} is implicit (the newest version); choose another alias")
    if alias == VERSIONS:
        raise InvalidInput(f"{VERSIONS!r} names the list of versions; choose another alias")
    _get_version(db, name=name, version=version)
    previous = db.scalar(
        select(ModelAlias.version).where(ModelAlias.model_name == name, ModelAlias.alias == alias)
    )
    if previous != version:  # PUT of the same version again: nothing moves, nothing recorded
        now, by = utcnow(), audit.actor()
        insert = _dialect_insert(db)
        db.execute(
            insert(ModelAlias)
            .values(
                project=project_of(db),
                model_name=name,
                alias=alias,
                version=version,
                updated_at=now,
                updated_by=by,
            )
            .on_conflict_do_update(
                index_elements=["project", "model_name", "alias"],
                set_={"version": version, "updated_at": now, "updated_by": by},
            )
        )
        audit.record(
            db,
            action=ALIAS_SET,
            target=_target(name),
            alias=alias,
            version=version,
            previous_version=previous,
        )
    return db.get_one(ModelAlias, (project_of(db), name, alias), populate_existing=True)


def delete_alias(db: Session, *, name: str, alias: str) -> None:
    _get_model(db, name=name)
    previous = db.scalar(
        delete(ModelAlias)
        .where(ModelAlias.model_name == name, ModelAlias.alias == alias)
        .returning(ModelAlias.version)
    )
    if previous is None:
        raise NotFound(f"model {name!r} has no alias {alias!r}{_aliases_hint(db, name)}")
    audit.record(
        db, action=ALIAS_DELETE, target=_target(name), alias=alias, previous_version=previous
    )


def list_models(db: Session) -> list[ModelSummary]:
    counts = {
        model: (count, latest)
        for model, count, latest in db.execute(
            select(ModelVersion.model_name, func.count(), func.max(ModelVersion.version)).group_by(
                ModelVersion.model_name
            )
        )
    }
    aliases = _aliases(db)
    return [
        ModelSummary(
            name=model.name,
            created_at=model.created_at,
            versions=counts.get(model.name, (0, None))[0],
            latest_version=counts.get(model.name, (0, None))[1],
            aliases=aliases.get(model.name, {}),
        )
        for model in db.scalars(select(RegisteredModel).order_by(RegisteredModel.name))
    ]


def get_model(db: Session, *, settings: Settings, name: str) -> ModelDetail:
    """A model with its aliases and every version's run and test metrics, newest first."""
    model = _get_model(db, name=name)
    aliases = _aliases(db, name).get(name, {})
    rows = db.execute(
        select(ModelVersion, Run)
        .join(Run, Run.id == ModelVersion.run_id)
        .where(ModelVersion.model_name == name)
        .order_by(ModelVersion.version.desc())
    ).all()
    versions = [_version_detail(settings, version, run, aliases) for version, run in rows]
    return ModelDetail(
        name=model.name,
        created_at=model.created_at,
        aliases=aliases,
        versions=versions,
        alias_history=alias_history(db, name=name),
    )


def alias_history(db: Session, *, name: str) -> list[AliasChange]:
    """Every move and removal of the model's aliases, newest first, with who did it."""
    events, _ = audit.list_events(
        db, target=_target(name), actions=[ALIAS_SET, ALIAS_DELETE], limit=1000
    )
    return [
        AliasChange(
            alias=event.details["alias"],
            version=event.details.get("version"),
            previous_version=event.details.get("previous_version"),
            by=event.actor,
            token_id=event.token_id,
            at=event.created_at,
        )
        for event in events
        if event.details
    ]


def _target(name: str) -> str:
    """The audit log's name for a model."""
    return f"models/{name}"


def get_version(db: Session, *, settings: Settings, name: str, ref: str) -> VersionDetail:
    """One version (by number, alias or `latest`) with its run and test metrics."""
    version = resolve(db, name=name, ref=ref)
    run = runs.get_run(db, run_id=version.run_id)
    return _version_detail(settings, version, run, _aliases(db, name).get(name, {}))


def _version_detail(
    settings: Settings, version: ModelVersion, run: Run, aliases: dict[str, int]
) -> VersionDetail:
    return VersionDetail(
        model_name=version.model_name,
        version=version.version,
        run_id=version.run_id,
        created_at=version.created_at,
        created_by=version.created_by,
        aliases=sorted(alias for alias, number in aliases.items() if number == version.version),
        run=_run_brief(run),
        test_metrics=_test_metrics(settings, run),
    )


def resolve(db: Session, *, name: str, ref: str) -> ModelVersion:
    """A version by number, alias or `latest`."""
    _get_model(db, name=name)
    if ref.isascii() and ref.isdigit() and len(ref) < 10:  # "²" is a digit to isdigit
        return _get_version(db, name=name, version=int(ref))
    if ref == LATEST:
        latest = db.scalar(
            select(ModelVersion)
            .where(ModelVersion.model_name == name)
            .order_by(ModelVersion.version.desc())
            .limit(1)
        )
        if latest is None:
            raise NotFound(f"model {name!r} has no versions yet")
        return latest
    alias = db.get(ModelAlias, (project_of(db), name, ref))
    if alias is None:
        raise NotFound(
            f"model {name!r} has no alias {ref!r}{_aliases_hint(db, name)}; a reference is a "
            f"version number, an alias or {LATEST!r}"
        )
    return _get_version(db, name=name, version=alias.version)


def succeeded_run(db: Session, *, name: str, ref: str) -> Run:
    """The run of the referenced version (its model files are the run's): 409 unless it
    succeeded."""
    run = runs.get_run(db, run_id=resolve(db, name=name, ref=ref).run_id)
    runs.require_succeeded(run)
    return run


def predict(
    db: Session,
    *,
    settings: Settings,
    name: str,
    ref: str,
    body: RowsBody,
    options: PredictOptions,
) -> bytes:
    version = resolve(db, name=name, ref=ref)
    run = runs.get_run(db, run_id=version.run_id)
    header = {"model": {"name": name, "version": version.version}}
    return predict_with_run(settings=settings, run=run, body=body, options=options, header=header)


def evaluate(db: Session, *, name: str, ref: str, **arguments) -> dict[str, Any]:
    """Metrics of a version / alias / latest, exactly as the evaluate of its run."""
    version = resolve(db, name=name, ref=ref)
    result = evaluate_run(db, run_id=version.run_id, **arguments)
    return {**result, "model": {"name": name, "version": version.version}}


def _get_model(db: Session, *, name: str) -> RegisteredModel:
    model = db.get(RegisteredModel, (project_of(db), name))
    if model is None:
        raise NotFound(
            f"model {name!r} is not registered; POST /v1/models/{name}/versions "
            '{"run_id": …} registers a run as its first version'
        )
    return model


def _get_version(db: Session, *, name: str, version: int) -> ModelVersion:
    found = db.get(ModelVersion, (project_of(db), name, version))
    if found is None:
        _get_model(db, name=name)
        latest = db.scalar(
            select(func.max(ModelVersion.version)).where(ModelVersion.model_name == name)
        )
        raise NotFound(
            f"model {name!r} has no version {version}"
            + (f" (versions 1 to {latest})" if latest else " (no versions yet)")
        )
    return found


def _aliases(db: Session, name: str | None = None) -> dict[str, dict[str, int]]:
    query = select(ModelAlias).order_by(ModelAlias.alias)
    if name is not None:
        query = query.where(ModelAlias.model_name == name)
    out: dict[str, dict[str, int]] = {}
    for alias in db.scalars(query):
        out.setdefault(alias.model_name, {})[alias.alias] = alias.version
    return out


def _aliases_hint(db: Session, name: str) -> str:
    names = sorted(_aliases(db, name).get(name, {}))
    return f" (aliases: {', '.join(names)})" if names else " (it has no aliases)"


def _run_brief(run: Run) -> RunBrief:
    params = run.run_params
    return RunBrief(
        id=run.id,
        experiment=run.experiment,
        name=run.name,
        engine=run.engine,
        status=run.status,
        target=params.target,
        features=params.features,
        prediction_window=params.prediction_window,
        data_fingerprint=run.data_fingerprint,
        finished_at=run.finished_at,
        summary=run.summary,
    )


def _test_metrics(settings: Settings, run: Run) -> dict[str, Any] | None:
    try:
        return read_metrics(settings, run).get("test")
    except NotFound:
        return None


def _dialect_insert(db: Session) -> Callable[..., Any]:
    """INSERT with ON CONFLICT: SQLite and PostgreSQL spell it the same in SQLAlchemy."""
    if db.get_bind().dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert
