"""Predict and evaluate with a succeeded run's model, on posted rows or stored sessions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import numpy as np
from pydantic import ValidationError
from sqlalchemy.orm import Session

from core.channels import is_identity, layout_of
from core.models import Run, RunSession
from core.params import DataSelection
from core.settings import Settings
from core.storage import PackStore
from service.errors import InvalidInput
from service.offload import decoded_apart
from service.predictions.encoding import prediction_json
from service.predictions.loading import INFERENCE_SLOTS, cached_predictor, load_predictor
from service.predictions.rows import (
    RowFormat,
    Rows,
    json_rows,
    json_rows_or_selection,
    rows_from_csv,
)
from service.predictions.schemas import (
    EvaluateOptions,
    EvaluateSelection,
    PredictOptions,
    RowsBody,
)
from service.runs import service as runs
from service.runs.selection import select_sessions
from workers.engines.base import Predictor
from workers.motion_data import MotionData, MotionDataError
from workers.run_data import run_sessions, stack_sessions

# Bodies up to this size, for a model already loaded, are answered on the event loop.
# 32 KiB is a few hundred rows: a millisecond or two of work.
INLINE_MAX_BYTES = 32 * 1024


def predict(
    db: Session, *, settings: Settings, run_id: str, body: RowsBody, options: PredictOptions
) -> bytes:
    """The JSON answer of POST /v1/runs/{id}/predict."""
    loaded = cached_predictor(settings, run_id)  # the hot path reads no database row
    if loaded is None:
        model = load_predictor(settings, runs.get_run(db, run_id=run_id))
    else:
        model = loaded.model
    return _predict(model, body, options, {"run_id": run_id})


def predict_inline(
    *, settings: Settings, run_id: str, body: RowsBody, options: PredictOptions
) -> bytes | None:
    """The answer, computed right away when that is cheap: a small body, a loaded model whose
    engine serves inline.

    Meant for the event loop: ~1 ms of CPU, less than a hop to a worker thread and the GIL
    hand-offs around it cost under load. None: call `predict` in a worker thread instead.
    """
    if len(body.data) > INLINE_MAX_BYTES:
        return None
    loaded = cached_predictor(settings, run_id)
    if loaded is None or not loaded.serves_inline:
        return None
    return _predict(loaded.model, body, options, {"run_id": run_id}, slot=False)


def predict_with_run(
    *,
    settings: Settings,
    run: Run,
    body: RowsBody,
    options: PredictOptions,
    header: dict[str, Any] | None = None,
) -> bytes:
    model = load_predictor(settings, run)
    return _predict(model, body, options, {"run_id": run.id, **(header or {})})


def _predict(
    model: Predictor,
    body: RowsBody,
    options: PredictOptions,
    header: dict[str, Any],
    *,
    slot: bool = True,
) -> bytes:
    fmt = RowFormat(
        tuple(model.features), options.session_column, None, body.max_features, options.channels
    )
    rows = parse_rows(body, fmt)
    data = motion_data(model, rows)
    frequency = options.output_frequency
    # Worker threads take an inference slot; the event loop never waits for one.
    with _as_invalid_input(), INFERENCE_SLOTS if slot else nullcontext():
        if options.output_type == "topk":
            result = model.predict_topk(data, "probability", options.k, frequency)
            k = min(options.k, len(model.classes))
            result["rank"] = np.tile(np.arange(k), len(result["class"]) // k)
        else:
            result = model.predict(data, options.output_type, frequency)
    header = {
        **header,
        "output_frequency": frequency,
        "output_type": options.output_type,
        "classes": list(model.classes),
    }
    return prediction_json(header, rows, result, options.output_type)


def evaluate(
    db: Session,
    *,
    settings: Settings,
    store: PackStore,
    run_id: str,
    body: RowsBody,
    options: EvaluateOptions,
) -> dict[str, Any]:
    """Metrics on posted labelled rows, or on stored sessions picked by a data selection."""
    run = runs.get_run(db, run_id=run_id)
    model = load_predictor(settings, run)
    label_column = options.label_column or model.target
    fmt = RowFormat(
        tuple(model.features),
        options.session_column,
        label_column,
        body.max_features,
        options.channels,
    )
    if body.media_type == "text/csv":
        rows_or_selection: Rows | dict = rows_from_csv(body.data, fmt)
    else:
        rows_or_selection = decoded_apart(len(body.data), json_rows_or_selection, body.data, fmt)
    if isinstance(rows_or_selection, dict):
        data = _stored_data(db, store, run, model, _selection(rows_or_selection))
    else:
        data = motion_data(model, rows_or_selection)
    with _as_invalid_input(), INFERENCE_SLOTS:
        metrics = model.evaluate(data)
    return {"run_id": run.id, "num_sessions": data.num_sessions, "metrics": metrics}


def parse_rows(body: RowsBody, fmt: RowFormat) -> Rows:
    if body.media_type == "text/csv":
        return rows_from_csv(body.data, fmt)
    return decoded_apart(len(body.data), json_rows, body.data, fmt)


def motion_data(model: Predictor, rows: Rows) -> MotionData:
    return MotionData(
        session_ids=rows.session_codes,
        features=rows.features,
        feature_names=tuple(model.features),
        targets=rows.labels,
        session_column="session_id",
        target_column=model.target,
    )


def _selection(document: dict) -> EvaluateSelection:
    try:
        selection = EvaluateSelection.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise InvalidInput(
            f"{problems}. Evaluate takes labelled rows, or a selection of stored sessions: "
            '{"sessions": [ids]}, {"activities": [...]}, {"subjects": [...]}, {"splits": [...]} '
            'or {"part": "test"} (the run\'s own part)'
        ) from None
    return selection


def _stored_data(
    db: Session, store: PackStore, run: Run, model: Predictor, selection: EvaluateSelection
) -> MotionData:
    filters = selection.model_dump(exclude={"part"}, exclude_none=True)
    if selection.part is not None:
        if filters:
            raise InvalidInput(f'"part" cannot be combined with {sorted(filters)}')
        chosen = [s for s in run_sessions(db, run.id) if s.part == selection.part]
        if not chosen:
            raise InvalidInput(f"run {run.id} has no {selection.part!r} part")
    else:
        chosen = _selected_sessions(db, selection, model)
    with _as_invalid_input():
        return stack_sessions(db, store, chosen, features=list(model.features), target=model.target)


def _selected_sessions(db: Session, selection: EvaluateSelection, model) -> list[RunSession]:
    # The same selection rules as a run's (order, unknown ids, nothing matching).
    filters = DataSelection(**selection.model_dump(exclude={"part"}))
    found = select_sessions(db, selection=filters)
    chosen = []
    features = list(model.features)
    for session in found:
        layout = layout_of(session.channels)
        sources = layout.sources(features, by_column=True)
        if sources is None:
            missing = [name for name in features if layout.source(name, by_column=True) is None]
            raise InvalidInput(
                f"session {session.id!r} lacks the model's feature(s) {missing} (it has "
                f"{list(layout.offered)})"
            )
        label = getattr(session, model.target, None)
        if label is None:
            raise InvalidInput(f"session {session.id!r} has no {model.target}; it cannot be scored")
        chosen.append(
            RunSession(
                session_id=session.id,
                blob_sha256=session.blob_sha256,
                label=label,
                sources=None if is_identity(sources, features) else sources,
            )
        )
    return chosen


@contextmanager
def _as_invalid_input() -> Iterator[None]:
    """The engine's data errors (MotionDataError) are the client's to fix: 422."""
    try:
        yield
    except MotionDataError as exc:
        raise InvalidInput(str(exc)) from exc
