"""Which model a live stream classifies with: a run's, or a registered version's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core.models import Run
from core.settings import Settings
from service.predictions.loading import load_mlmodel_streamer, load_predictor
from service.registry.service import resolve
from service.runs.service import get_run
from workers.live import Streamer


@dataclass(frozen=True)
class LiveModel:
    model: Streamer
    header: dict[str, Any]  # what the "ready" message says about the model


def run_model(db: Session, *, settings: Settings, run_id: str) -> LiveModel:
    """A succeeded run's model, as POST /v1/runs/{id}/predict loads it: 404, 409 otherwise."""
    return _live_model(settings, get_run(db, run_id=run_id), {})


def registered_model(db: Session, *, settings: Settings, name: str, ref: str) -> LiveModel:
    """A version / alias / latest of a registered model, as its predict resolves it."""
    version = resolve(db, name=name, ref=ref)
    run = get_run(db, run_id=version.run_id)
    return _live_model(settings, run, {"model": {"name": name, "version": version.version}})


def _live_model(settings: Settings, run: Run, header: dict[str, Any]) -> LiveModel:
    predictor = load_predictor(settings, run)
    # A model that cannot step windows itself: the stream steps the run's exported .mlmodel,
    # the file an iOS app runs (both engines' models step: this is for engines that do not).
    model = predictor if isinstance(predictor, Streamer) else load_mlmodel_streamer(settings, run)
    return LiveModel(
        model,
        {
            "run_id": run.id,
            **header,
            "features": list(model.features),
            "classes": list(model.classes),
            "prediction_window": model.prediction_window,
        },
    )
