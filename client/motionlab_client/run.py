"""`Run`: one training run of the server: wait for it, read its metrics, predict, download."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motionlab_client.errors import InputError, RunFailed
from motionlab_client.files import read_local

if TYPE_CHECKING:
    from motionlab_client.client import Client, Pulled

FINISHED = ("succeeded", "failed", "canceled")
ProgressCallback = Callable[[dict[str, Any], dict[str, Any]], None]  # (progress row, run)


class Run:
    """A run as the server last described it (`data`: the JSON of GET /v1/runs/{id})."""

    def __init__(self, client: Client, data: dict[str, Any]):
        self.client = client
        self.data = data

    def __repr__(self) -> str:
        return f"Run({self.id!r}, status={self.status!r})"

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def status(self) -> str:
        return str(self.data["status"])

    @property
    def summary(self) -> dict[str, Any]:
        return self.data.get("summary") or {}

    @property
    def model_name(self) -> str:
        return str(self.data["params"]["model"]["name"])

    def refresh(self) -> Run:
        self.data = self.client.get_json(f"/v1/runs/{self.id}")
        return self

    def progress(self) -> list[dict[str, Any]]:
        """Every iteration so far: train / validation accuracy and loss, elapsed seconds."""
        return self.client.get_json(f"/v1/runs/{self.id}/progress")

    def wait(
        self,
        progress: bool | ProgressCallback = False,
        *,
        timeout_s: float | None = None,
        poll_s: float = 0.25,
        check: bool = True,
    ) -> Run:
        """Block until the run ends. `progress=True` draws a progress bar on stderr, moving
        within each epoch as its batches train (a callable gets each new iteration instead).
        Raises `RunFailed` when it failed or was canceled (unless `check=False`),
        `TimeoutError` after `timeout_s`."""
        report = ProgressBar(self) if progress is True else progress or None
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        seen = 0
        while True:
            self.refresh()
            if report is not None:
                rows = self.progress()
                for row in rows[seen:]:
                    report(row, self.data)
                seen = len(rows)
                live = self.data.get("live_progress")
                if isinstance(report, ProgressBar) and live:
                    if live.get("phase") == "preparing":
                        report.preparing(live)
                    elif live["iteration"] > seen:
                        report.epoch_in_progress(live)
            if self.status in FINISHED:
                break
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {self.id} is still {self.status} after {timeout_s} s")
            time.sleep(poll_s)
        if isinstance(report, ProgressBar):
            report.close()
        if check and self.status != "succeeded":
            raise RunFailed(self.id, self.status, self.data.get("error_message"))
        return self

    def cancel(self) -> Run:
        self.data = self.client.request("POST", f"/v1/runs/{self.id}/cancel").json()
        return self

    def metrics(self) -> dict[str, Any]:
        """Train / validation / test metrics: accuracy, precision, recall, f1_score, log_loss,
        auc, confusion_matrix, report_by_class."""
        return self.client.get_json(f"/v1/runs/{self.id}/metrics")

    def predict(
        self,
        rows: Any,
        *,
        output_frequency: str = "per_row",
        output_type: str = "class",
        k: int | None = None,
    ) -> dict[str, Any]:
        """Predictions for `rows`: a CSV file path, a data frame, CSV text or bytes, a JSON
        document ({"columns", "samples"}) or a list of records ({feature: value, …})."""
        content, kind = rows_body(rows)
        params = {"output_frequency": output_frequency, "output_type": output_type}
        if k is not None:
            params["k"] = str(k)
        response = self.client.request(
            "POST",
            f"/v1/runs/{self.id}/predict",
            content=content,
            headers={"Content-Type": kind},
            params=params,
        )
        return response.json()

    def download_mlmodel(self, path: str | Path | None = None) -> Pulled:
        """The Core ML model, written to `path` (default `<model name>-<run id>.mlmodel`, so
        two runs never overwrite each other); skipped when `path` holds it already."""
        target = Path(path) if path is not None else Path(f"{self.model_name}-{self.id}.mlmodel")
        return self.client.download(f"/v1/runs/{self.id}/model.mlmodel", target)


def rows_body(rows: Any) -> tuple[bytes, str]:
    """(body, content type) of rows to predict on."""
    if isinstance(rows, Path) or (isinstance(rows, str) and "\n" not in rows):
        path = Path(rows)
        kind = "application/json" if path.suffix == ".json" else "text/csv"
        return read_local(path), kind
    if isinstance(rows, str):
        return rows.encode(), "text/csv"
    if isinstance(rows, bytes):
        return rows, "text/csv"
    if hasattr(rows, "to_csv"):
        return rows.to_csv(index=False).encode(), "text/csv"
    if isinstance(rows, list) and rows and isinstance(rows[0], dict):
        columns = list(rows[0])
        rows = {"columns": columns, "samples": [[row[c] for c in columns] for row in rows]}
    if isinstance(rows, dict):
        return json.dumps(rows).encode(), "application/json"
    raise InputError(
        "Rows not understood",
        f"rows of type {type(rows).__name__}: give a CSV path, CSV text, a data frame, "
        '{"columns", "samples"} or a list of {feature: value} records',
    )


class ProgressBar:
    """A one-line progress bar on stderr (a line per iteration when stderr is not a terminal)."""

    WIDTH = 24

    def __init__(self, run: Run, stream: Any = None):
        self.stream = stream or sys.stderr
        self.total = int(run.data["params"].get("max_iterations") or 0)
        self.live = self.stream.isatty()

    def preparing(self, live: dict[str, Any]) -> None:
        """The run loads its data before training (on a terminal only)."""
        if self.live:
            loaded, total = live.get("sessions_loaded"), live.get("sessions_total")
            self._draw(0, f"preparing data: {loaded}/{total} sessions loaded", live)

    def epoch_in_progress(self, live: dict[str, Any]) -> None:
        """The epoch that trains now: the bar moves by its batches (on a terminal only; a log
        gets a line per finished epoch)."""
        if not self.live:
            return
        done, total = live.get("batches_done"), live.get("batches_total")
        fraction = done / total if done is not None and total else 0.0
        position = int(live["iteration"]) - 1 + fraction
        loss = live.get("train_loss")
        figures = f"batch {done}/{total}" if total else ""
        figures += f"  train loss {loss:.3f}" if loss is not None else ""
        self._draw(position, f"{int(live['iteration'])}/{self.total}  {figures}", live)

    def __call__(self, row: dict[str, Any], run: dict[str, Any]) -> None:
        done = int(row["iteration"])
        figures = "  ".join(
            f"{name} {row[key]:.3f}"
            for name, key in (
                ("train acc", "train_accuracy"),
                ("valid acc", "validation_accuracy"),
                ("train loss", "train_loss"),
                ("valid loss", "validation_loss"),
            )
            if row.get(key) is not None
        )
        self._draw(done, f"{done}/{self.total}  {figures}", row)

    def _draw(self, position: float, text: str, report: dict[str, Any]) -> None:
        filled = int(self.WIDTH * position / self.total) if self.total else self.WIDTH
        bar = "#" * filled + "." * (self.WIDTH - filled)
        line = f"[{bar}] {text}  {report['elapsed_s']:.1f} s"
        # \x1b[K clears what a longer line before this one left on the terminal
        self.stream.write(f"\r{line}\x1b[K" if self.live else f"{line}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()
