"""The client of runner.py: Turi Create 6.4.1 in its own Python 3.8 env, from this side.

This interpreter never imports turicreate. It starts runner.py with the env's python as a
child process in a process group of its own, writes the inputs (exchange.py) while the runner
loads TensorFlow and Turi Create, turns the runner's JSON lines into progress callbacks, and
reads the outputs back:

    result = train_parts(parts=context.parts, params=TrainParams.from_run_params(run.params),
                         out_dir=context.run_dir, on_iteration=context.on_iteration,
                         should_stop=context.should_stop)
    result.metrics()       # {"train" | "validation" | "test": workers.metrics schema}
    result.artifacts(context.run_dir)  # model/, model.mlmodel, summary.json, part_metrics.json

Predictions of a trained model come from its exported model.mlmodel in this process
(model.py); `predict_data` asks Turi Create itself, the reference the tests hold that to.

The env is `MOTIONLAB_TURICREATE_VENV`, else the repository's `.venv-turicreate`, built by
scripts/turicreate_env.sh (`make turicreate-env`).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from core.params import DEFAULT_PREDICTION_WINDOW, RunParams
from core.recipes import RECIPE_DEFAULTS, TURICREATE, default_max_iterations
from workers.engines.turicreate.exchange import Probabilities, read_probabilities, write_parts
from workers.engines.turicreate.model import TuriCreateModel
from workers.engines.turicreate.process import run_runner
from workers.engines.turicreate.results import METRIC_PARTS, TrainResult
from workers.motion_data import MotionData

ITERATION_KEYS = (
    "iteration",
    "train_accuracy",
    "validation_accuracy",
    "train_loss",  # Turi Create's create() does not print losses: always None
    "validation_loss",
    "elapsed_s",
)


TURICREATE_DEFAULTS = RECIPE_DEFAULTS[TURICREATE]


@dataclass(frozen=True)
class TrainParams:
    """runner.py's params.json, every key written. Defaults are a run's with the turicreate
    recipe (Turi Create's own, spec §1.1); a run's come resolved (from_run_params)."""

    features: tuple[str, ...]
    target: str = "activity"
    session_id: str = "sessionId"
    prediction_window: int = DEFAULT_PREDICTION_WINDOW
    # Fixed epochs, whatever the data (the turicreate recipe has no step budget).
    max_iterations: int = default_max_iterations(
        TURICREATE, num_chunks=0, batch_size=TURICREATE_DEFAULTS.batch_size
    )
    batch_size: int = TURICREATE_DEFAULTS.batch_size
    random_seed: int | None = None
    # split: the rows' `part` column decides; auto: Turi Create's own split; none: no validation
    validation: Literal["split", "auto", "none"] = "split"

    @classmethod
    def from_run_params(cls, params: RunParams) -> TrainParams:
        """From a run's frozen params; the worker already split the data."""
        return cls(
            features=tuple(params.features),
            target=params.target,
            prediction_window=params.prediction_window,
            max_iterations=params.max_iterations,
            batch_size=params.batch_size,
            random_seed=params.random_seed,
            validation="split",
        )

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "features": list(self.features)}


def train(
    *,
    data_dir: Path,
    params: TrainParams,
    out_dir: Path,
    on_iteration: Callable[[dict[str, Any]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    timeout_s: float | None = None,
    venv: Path | None = None,
    while_starting: Callable[[], None] | None = None,
) -> TrainResult:
    """Train from a data directory (exchange.py); every output lands in out_dir (results.py).

    while_starting: writes data_dir while the runner starts (then it waits for it).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    params_path = out_dir / "params.json"
    params_path.write_text(json.dumps(params.to_json(), indent=1))
    iterations: list[dict[str, Any]] = []

    def on_event(event: dict[str, Any]) -> None:
        if event.get("event") == "iteration":
            report = {key: event.get(key) for key in ITERATION_KEYS}
            iterations.append(report)
            if on_iteration is not None:
                on_iteration(report)

    args = ["train", "--data", data_dir, "--params", params_path, "--out", out_dir]
    summary = run_runner(
        [*args, "--wait"] if while_starting is not None else args,
        on_event=on_event,
        should_stop=should_stop,
        timeout_s=timeout_s,
        venv=venv,
        while_starting=while_starting,
    )
    return TrainResult(out_dir=out_dir, summary=summary, iterations=iterations)


def train_parts(
    *, parts: Mapping[str, MotionData], params: TrainParams, out_dir: Path, **options: Any
) -> TrainResult:
    """train() on in-memory parts ('train', 'valid', 'test'); options as for train(). Then
    the metrics of every part, from the exported model (results.py: part_metrics.json).

    The columns (features, session id, target) are the data's own names.
    """
    first = parts["train"] if "train" in parts else next(iter(parts.values()))
    params = replace(
        params,
        features=tuple(first.feature_names),
        session_id=first.session_column,
        target=first.target_column or params.target,
    )
    with tempfile.TemporaryDirectory(prefix="motionlab-tc-data-") as tmp:
        data_dir = Path(tmp)

        def write_data() -> None:  # while the runner starts
            write_parts(data_dir, parts=parts)

        result = train(
            data_dir=data_dir, params=params, out_dir=out_dir, while_starting=write_data, **options
        )
    model = TuriCreateModel(out_dir)
    result.write_metrics({METRIC_PARTS[part]: model.evaluate(parts[part]) for part in result.parts})
    return result


def predict_data(
    *,
    model_dir: Path,
    data: MotionData,
    classes: list,
    output_frequency: Literal["per_row", "per_window"] = "per_row",
    timeout_s: float | None = None,
    venv: Path | None = None,
) -> Probabilities:
    """Turi Create's own class probabilities of a saved model, per row or per window, from a
    runner started for the call (seconds: the reference the exported model is tested against,
    not a serving path). `classes`: the model's, in its order."""
    with tempfile.TemporaryDirectory(prefix="motionlab-tc-predict-") as tmp:
        data_dir, out_dir = Path(tmp) / "data", Path(tmp) / "out"
        write_parts(data_dir, parts={"test": data})
        args = ["predict", "--model", model_dir, "--data", data_dir, "--out", out_dir]
        done = run_runner(
            [*args, "--output-frequency", output_frequency],
            on_event=lambda event: None,
            should_stop=None,
            timeout_s=timeout_s,
            venv=venv,
        )
        if [str(c) for c in done["classes"]] != [str(c) for c in classes]:
            raise ValueError(f"the model has classes {done['classes']}, not {classes}")
        return read_probabilities(out_dir, classes=classes, data=data)
