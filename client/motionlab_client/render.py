"""Plain text for the user CLI: tables of runs, metrics, confusion matrices, comparisons; the
summary of an upload."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

PARTS = ("train", "validation", "test")
METRICS = ("accuracy", "precision", "recall", "f1_score", "log_loss", "auc")


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns padded to their widest cell; numbers right-aligned."""
    text = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in text)]) for i, h in enumerate(header)]
    numeric = [
        all(isinstance(row[i], int | float) or row[i] is None for row in rows)
        for i in range(len(header))
    ]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if n else c.ljust(w) for c, w, n in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, text)])


def metrics_table(metrics: dict[str, Any]) -> str:
    parts = [p for p in PARTS if isinstance(metrics.get(p), dict)]
    rows = [[name, *(metrics[p].get(name) for p in parts)] for name in METRICS]
    rows.append(["examples", *(metrics[p].get("num_examples") for p in parts)])
    return table(["metric", *parts], rows)


def confusion_matrix(part: dict[str, Any]) -> str:
    """Rows: the actual class; columns: the predicted one."""
    entries = part.get("confusion_matrix") or []
    classes = sorted(
        {str(e["class"]) for e in entries} | {str(e["predicted_class"]) for e in entries}
    )
    counts = {(str(e["class"]), str(e["predicted_class"])): int(e["count"]) for e in entries}
    rows = [[actual, *(counts.get((actual, p), 0) for p in classes)] for actual in classes]
    return table(["actual \\ predicted", *classes], rows)


def runs_table(runs: Sequence[Any]) -> str:
    rows = [
        [
            run.id,
            run.data.get("experiment"),
            run.data.get("name"),
            run.status,
            run.data.get("engine"),
            run.data.get("recipe"),
            run.data["params"].get("prediction_window"),
            run.data["params"].get("max_iterations"),
            run.summary.get("train_accuracy"),
            run.summary.get("validation_accuracy"),
            run.summary.get("test_accuracy"),
            str(run.data.get("created_at", ""))[:19],
        ]
        for run in runs
    ]
    header = [
        "id",
        "experiment",
        "name",
        "status",
        "engine",
        "recipe",
        "window",
        "iterations",
        "train acc",
        "valid acc",
        "test acc",
        "created",
    ]
    return table(header, rows)


def comparison_table(runs: Sequence[Any]) -> str:
    """How each run trained (engine, recipe: always shown), the parameters that differ between
    the runs, then their summary metrics side by side."""
    params = [run.data["params"] for run in runs]
    keys = sorted({key for p in params for key in p} - {"recipe"})
    differing = [k for k in keys if len({repr(p.get(k)) for p in params}) > 1]
    metric_keys = sorted({key for run in runs for key in run.summary})
    rows = [[k, *(run.data.get(k) for run in runs)] for k in ("engine", "recipe")]
    rows += [[k, *(p.get(k) for p in params)] for k in differing]
    rows += [[k, *(run.summary.get(k) for run in runs)] for k in metric_keys]
    rows += [["status", *(run.status for run in runs)]]
    return table(["", *(run.id for run in runs)], [[r[0], *map(_short, r[1:])] for r in rows])


def _short(value: Any) -> Any:
    return value if isinstance(value, int | float | str) or value is None else str(value)[:40]


def upload_summary(stored: Sequence[dict[str, Any]], fates: Sequence[str]) -> str:
    """One line for an upload: sessions by what became of them, rows, features."""
    counts = {fate: fates.count(fate) for fate in ("stored", "replaced", "unchanged")}
    done = ", ".join(f"{n} {fate}" for fate, n in counts.items() if n) or "nothing stored"
    rows = sum(int(s["rows"]) for s in stored)
    features = sorted({name for s in stored for name in s["features"]})
    return (
        f"{len(stored)} session{'s' if len(stored) != 1 else ''} ({done}), {rows:,} rows, "
        f"{len(features)} feature{'s' if len(features) != 1 else ''}"
        + (f": {', '.join(features)}" if len(features) <= 8 else "")
    )
