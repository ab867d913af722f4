"""Turi Create 6.4.1 runner: the child process of motionlab's `turicreate` engine.

Runs under the Python 3.8 env (`make turicreate-env`); standard library + turicreate only.
The worker side is runner_client.py beside it; exchange.py and results.py describe the files.

    runner.py train   --data rows.csv --params params.json --out DIR
    runner.py predict --model DIR --data rows.csv --out FILE [--output-frequency per_row|per_window]
    runner.py serve   (predict requests as JSON lines on stdin, until stdin closes)

stdout carries only JSON lines ({"event": ...}); everything else goes to stderr. Turi Create
prints its progress table (through Python's print, from C++) and Keras its progress bars to
fd 1, so fd 1 is pointed into a pipe for the whole run: a thread parses the table into one
"iteration" event per row and forwards other text to stderr. Exit status: 0 ok, 2 bad input,
1 Turi Create failed.
"""

import argparse
import contextlib
import csv
import ctypes
import json
import math
import os
import platform
import re
import shutil
import signal
import sys
import tempfile
import threading
import time

PARTS = ("train", "valid", "test")
VALIDATION_MODES = ("split", "auto", "none")
PART_COLUMN = "part"
# params.json holds every key: runner_client.TrainParams writes them all, with the defaults
# decided on that side (core/), which this Python 3.8 script cannot import.
PARAM_KEYS = (
    "features",
    "target",
    "session_id",
    "prediction_window",
    "max_iterations",
    "batch_size",
    "random_seed",
    "validation",
)
# Turi Create throttles its progress table to a row every few seconds; 0 prints every iteration.
TICK_PRINT_CONFIG = "TURI_MIN_SECONDS_BETWEEN_TICK_PRINTS"
TABLE_COLUMNS = {
    "Iteration": "iteration",
    "Train Accuracy": "train_accuracy",
    "Validation Accuracy": "validation_accuracy",
    "Elapsed Time": "elapsed_s",
}
KERAS_PROGRESS = re.compile(r"^\s*\d+/\d+ \[[=>.]*\]")
TIME_UNITS_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
TIME_TOKEN = re.compile(r"^([0-9.eE+-]+)(us|ms|s|m|h|d)$")


class InputError(Exception):
    """Bad arguments, parameters or data: exit status 2."""


# --------------------------------------------------------------------------- progress table


def parse_elapsed(text):
    """Seconds in a Turi Create time cell: '2.30s', '150ms', '1m 40s', '2d 3h 4m'."""
    total = 0.0
    for token in text.split():
        match = TIME_TOKEN.match(token)
        if match is None:
            return None
        total += float(match.group(1)) * TIME_UNITS_S[match.group(2)]
    return total if text.strip() else None


def _number(text):
    try:
        return float(text)
    except ValueError:
        return None


class ProgressTable:
    """Turns the lines of Turi Create's training table into iteration dicts."""

    def __init__(self):
        self.columns = None

    def feed(self, line):
        """Returns an iteration dict for a data row, True for other table lines, else None."""
        line = line.strip()
        if line.startswith("+-") and line.endswith("+"):
            return True
        if not (line.startswith("|") and line.endswith("|")):
            return None
        cells = [cell.strip() for cell in line[1:-1].split("|")]
        if cells and cells[0] == "Iteration":
            self.columns = [TABLE_COLUMNS.get(cell, cell) for cell in cells]
            return True
        if self.columns is None or len(cells) != len(self.columns) or not cells[0].isdigit():
            return None
        row = {"iteration": int(cells[0]), "train_accuracy": None, "validation_accuracy": None}
        for name, cell in zip(self.columns[1:], cells[1:]):
            row[name] = parse_elapsed(cell) if name == "elapsed_s" else _number(cell)
        return row


class Events:
    """JSON lines on the process' real stdout, shared by the main and capture threads."""

    def __init__(self, stream):
        self._stream = stream
        self._lock = threading.Lock()

    def emit(self, event, **fields):
        record = {"event": event}
        record.update(fields)
        line = json.dumps(_json_safe(record), sort_keys=False)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


class StdoutCapture:
    """Points fd 1 into a pipe; a thread turns table rows into events, the rest goes to stderr."""

    def __init__(self, events):
        self._events = events
        self._table = ProgressTable()
        self._marker_seen = threading.Event()
        self._marker = f"motionlab-sync-{os.getpid()}"
        self._thread = None

    def start(self):
        sys.stdout.flush()
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 1)
        os.close(write_fd)
        sys.stdout.reconfigure(line_buffering=True)
        self._thread = threading.Thread(target=self._read, args=(read_fd,), daemon=True)
        self._thread.start()

    def sync(self, timeout_s=30.0):
        """Waits until everything printed so far has been parsed (so events stay in order)."""
        self._flush_all()
        self._marker_seen.clear()
        os.write(1, f"\n{self._marker}\n".encode())
        self._marker_seen.wait(timeout_s)

    def stop(self):
        self._flush_all()
        os.dup2(2, 1)  # closes the pipe's last write end: the reader sees EOF
        if self._thread is not None:
            self._thread.join(10.0)

    @staticmethod
    def _flush_all():
        sys.stdout.flush()
        # C++ iostreams / C stdio may hold text for fd 1 in their own buffers
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).fflush(None)

    def _read(self, read_fd):
        pending = ""
        with os.fdopen(read_fd, "rb", buffering=0) as pipe:
            while True:
                chunk = pipe.read(65536)
                if not chunk:
                    break
                pending += chunk.decode("utf-8", "replace")
                pieces = re.split(r"[\r\n]", pending)
                pending = pieces.pop()
                for piece in pieces:
                    self._handle(piece)
        if pending:
            self._handle(pending)

    def _handle(self, line):
        line = line.replace("\b", "").rstrip()
        if line == self._marker:
            self._marker_seen.set()
            return
        if not line or KERAS_PROGRESS.match(line):
            return
        row = self._table.feed(line)
        if isinstance(row, dict):
            self._events.emit("iteration", **row)
        elif row is None:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()


# --------------------------------------------------------------------------- inputs


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def load_params(path):
    try:
        with open(path) as f:
            given = json.load(f)
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read params {path}: {error}") from None
    if not isinstance(given, dict):
        raise InputError("params must be a JSON object")
    unknown = sorted(set(given) - set(PARAM_KEYS))
    if unknown:
        raise InputError(f"unknown params: {', '.join(unknown)}")
    missing = [key for key in PARAM_KEYS if key not in given]
    if missing:
        raise InputError(f"params misses {', '.join(missing)}")
    params = dict(given)
    features = params.get("features")
    if (
        not isinstance(features, list)
        or not features
        or not all(isinstance(f, str) for f in features)
    ):
        raise InputError("params.features must be a non-empty list of column names")
    for key in ("target", "session_id"):
        if not isinstance(params[key], str) or not params[key]:
            raise InputError(f"params.{key} must be a column name")
    for key in ("prediction_window", "max_iterations", "batch_size"):
        if not isinstance(params[key], int) or isinstance(params[key], bool) or params[key] < 1:
            raise InputError(f"params.{key} must be a positive integer")
    seed = params["random_seed"]
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise InputError("params.random_seed must be an integer or null")
    if params["validation"] not in VALIDATION_MODES:
        raise InputError(f"params.validation must be one of {', '.join(VALIDATION_MODES)}")
    return params


def csv_header(path):
    try:
        with open(path, newline="") as f:
            header = next(csv.reader(f), None)
    except OSError as error:
        raise InputError(f"cannot read {path}: {error}") from None
    if not header:
        raise InputError(f"{path} is empty; expected a header row")
    return header


def require_columns(path, header, needed):
    missing = [name for name in needed if name not in header]
    if missing:
        raise InputError(
            f"{path} lacks column(s) {', '.join(missing)} (it has: {', '.join(header)})"
        )


def read_rows(tc, path, session_id, features, strings=()):
    """Reads the CSV as an SFrame: ids and labels as str, features as float, in file order."""
    hints = {name: float for name in features}
    hints.update({name: str for name in [session_id, *list(strings)]})
    columns = [session_id, *list(strings), *list(features)]
    # error_bad_lines: a malformed row is an error, not silently dropped; na_values: a label
    # or session called "NA" stays a string.
    frame = tc.SFrame.read_csv(
        path,
        column_type_hints=hints,
        usecols=columns,
        header=True,
        error_bad_lines=True,
        na_values=[],
        verbose=False,
    )
    if frame.num_rows() == 0:
        raise InputError(f"{path} has no data rows")
    return frame[columns]


def count_sessions(session_ids):
    """Turi Create's rule: a session is a contiguous run of one id."""
    count, previous = 0, object()
    for sid in session_ids:
        if sid != previous:
            count, previous = count + 1, sid
    return count


def split_parts(tc, frame, params):
    """Returns {part: SFrame} holding only the model's columns, rows in file order."""
    columns = [params["session_id"], params["target"]] + params["features"]
    if PART_COLUMN not in frame.column_names():
        return {"train": frame[columns]}
    unexpected = set(frame[PART_COLUMN].unique()) - set(PARTS)
    if unexpected:
        raise InputError(
            f"column {PART_COLUMN!r} holds {', '.join(sorted(map(str, unexpected)))}; "
            f"allowed: {', '.join(PARTS)}"
        )
    parts = {}
    for part in PARTS:
        rows = frame[frame[PART_COLUMN] == part]
        if rows.num_rows():
            parts[part] = rows[columns]
    if "valid" in parts and params["validation"] != "split":
        raise InputError("rows with part 'valid' need params.validation 'split'")
    if "train" not in parts:
        raise InputError("no rows with part 'train'")
    return parts


# --------------------------------------------------------------------------- outputs


def write_probabilities(path, classes, session_ids, probabilities, targets=None, extra=None):
    """CSV: session_id[,target][,extra...], then one probability column per class."""
    extra = extra or {}
    header = ["session_id"] + (["target"] if targets is not None else []) + list(extra)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header + [str(c) for c in classes])
        columns = [session_ids] + ([targets] if targets is not None else []) + list(extra.values())
        for values in zip(*columns, probabilities):
            writer.writerow(list(values[:-1]) + [repr(float(p)) for p in values[-1]])


def evaluation_json(evaluation):
    out = {}
    for key, value in evaluation.items():
        if key == "roc_curve":  # 1001 rows per class: ask the saved model when needed
            continue
        if hasattr(value, "column_names"):  # SFrame (confusion_matrix)
            value = [dict(row) for row in value]
        out[key] = value
    return out


def versions(tc):
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version(), "turicreate": tc.__version__}
    for package in ("tensorflow", "coremltools", "protobuf"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    return found


MODEL_FIELDS = [
    "num_sessions",
    "num_examples",
    "num_classes",
    "num_features",
    "training_time",
    "training_iterations",
    "random_seed",
] + [
    f"{split}_{metric}"
    for split in ("training", "validation")
    for metric in ("accuracy", "log_loss", "f1_score", "precision", "recall", "auc")
]


def train(args, events, capture):
    started = time.time()
    params = load_params(args.params)
    header = csv_header(args.data)
    needed = [params["session_id"], params["target"]] + params["features"]
    require_columns(args.data, header, needed)
    strings = [params["target"]] + ([PART_COLUMN] if PART_COLUMN in header else [])
    os.makedirs(args.out, exist_ok=True)

    import turicreate as tc

    tc.config.set_runtime_config(TICK_PRINT_CONFIG, 0)
    frame = read_rows(tc, args.data, params["session_id"], params["features"], strings)
    parts = split_parts(tc, frame, params)
    part_info = {
        part: {"rows": rows.num_rows(), "sessions": count_sessions(rows[params["session_id"]])}
        for part, rows in parts.items()
    }
    validation_set = {"split": parts.get("valid"), "auto": "auto", "none": None}
    events.emit("start", parts=part_info, versions=versions(tc))

    model = tc.activity_classifier.create(
        parts["train"],
        session_id=params["session_id"],
        target=params["target"],
        features=params["features"],
        prediction_window=params["prediction_window"],
        validation_set=validation_set[params["validation"]],
        max_iterations=params["max_iterations"],
        batch_size=params["batch_size"],
        random_seed=params["random_seed"],
        verbose=True,
    )
    capture.sync()
    fields = {name: model._get(name) for name in MODEL_FIELDS if name in model._list_fields()}
    events.emit("trained", **fields)

    classes = list(model.classes)
    files = {"probabilities": {}}
    evaluation = {}
    for part, rows in parts.items():
        files["probabilities"][part] = f"probabilities_{part}.csv"
        write_probabilities(
            os.path.join(args.out, files["probabilities"][part]),
            classes,
            rows[params["session_id"]],
            model.predict(rows, output_type="probability_vector"),
            targets=rows[params["target"]],
        )
        evaluation[part] = evaluation_json(model.evaluate(rows))
    files["tc_evaluation"] = "tc_evaluation.json"
    write_json(os.path.join(args.out, files["tc_evaluation"]), evaluation)
    check_part = "test" if "test" in parts else "train"
    files["first_session_windows"] = f"windows_{check_part}_first_session.json"
    write_json(
        os.path.join(args.out, files["first_session_windows"]),
        first_session_windows(model, parts[check_part], check_part, params),
    )
    files["model"] = "model"
    model.save(os.path.join(args.out, files["model"]))
    files["mlmodel"] = "model.mlmodel"
    model.export_coreml(os.path.join(args.out, files["mlmodel"]))
    capture.sync()

    summary = {
        "versions": versions(tc),
        "classes": classes,
        "features": params["features"],
        "target": params["target"],
        "session_id": params["session_id"],
        "prediction_window": params["prediction_window"],
        "max_iterations": params["max_iterations"],
        "batch_size": params["batch_size"],
        "validation": params["validation"],
        "parts": part_info,
        "model_fields": fields,
        "num_sessions": fields.get("num_sessions"),
        "training_time": fields.get("training_time"),
        "files": files,
        "elapsed_s": round(time.time() - started, 3),
    }
    # Not result.json / metrics.json: those belong to the worker, in the same run directory.
    files["summary"] = "summary.json"
    write_json(os.path.join(args.out, files["summary"]), summary)
    events.emit("done", **summary)


def first_session_windows(model, rows, part, params):
    """Per-window output of the part's first session: a cross-check for Core ML evaluators."""
    session_ids = rows[params["session_id"]]
    first = session_ids[0]
    length = 0
    for session_id in session_ids:  # the first contiguous run, as Turi Create counts sessions
        if session_id != first:
            break
        length += 1
    session_rows = rows.head(length)
    windows = model.predict(
        session_rows, output_type="probability_vector", output_frequency="per_window"
    )
    return {
        "part": part,
        "session_id": first,
        "rows": length,
        "prediction_window": params["prediction_window"],
        "classes": list(model.classes),
        "prediction_ids": list(windows["prediction_id"]),
        "probabilities": [list(v) for v in windows["probability_vector"]],
    }


def write_json(path, document):
    """Written whole or not at all: a reader never sees half a file."""
    with open(path + ".partial", "w") as f:
        json.dump(_json_safe(document), f, indent=1)
    os.replace(path + ".partial", path)


LOADED_MODELS = {}  # (model directory, its mtime) → model: `serve` loads each once


def load_model(tc, path):
    try:
        key = (path, os.stat(path).st_mtime_ns)
        if key not in LOADED_MODELS:
            if len(LOADED_MODELS) >= 8:
                LOADED_MODELS.clear()
            LOADED_MODELS[key] = tc.load_model(path)
        return LOADED_MODELS[key]
    except Exception as error:
        raise InputError(f"cannot load a Turi Create model from {path}: {error}") from None


def predict(args, events, capture):
    import turicreate as tc

    model = load_model(tc, args.model)
    header = csv_header(args.data)
    require_columns(args.data, header, [model.session_id, *list(model.features)])
    rows = read_rows(tc, args.data, model.session_id, list(model.features))
    classes = list(model.classes)
    session_ids = rows[model.session_id]
    if args.output_frequency == "per_row":
        probabilities = model.predict(rows, output_type="probability_vector")
        write_probabilities(args.out, classes, session_ids, probabilities)
        count = len(probabilities)
    else:
        windows = model.predict(
            rows, output_type="probability_vector", output_frequency="per_window"
        )
        window_ids = window_indices(windows[model.session_id])
        write_probabilities(
            args.out,
            classes,
            windows[model.session_id],
            windows["probability_vector"],
            extra={"prediction_id": windows["prediction_id"], "window": window_ids},
        )
        count = windows.num_rows()
    capture.sync()
    events.emit(
        "done",
        output_frequency=args.output_frequency,
        rows=rows.num_rows(),
        predictions=count,
        classes=classes,
        out=args.out,
        versions=versions(tc),
    )


def window_indices(session_ids):
    """0-based window number inside each (contiguous) session."""
    indices, previous, index = [], object(), 0
    for sid in session_ids:
        index = index + 1 if sid == previous else 0
        previous = sid
        indices.append(index)
    return indices


def serve(events, capture):
    """Answer predict requests, one JSON line each on stdin ({"model", "data", "out",
    "output_frequency"}), with predict's "done" event or an "error" event; end when stdin
    closes (the engine's side went away). Python 3.8, TensorFlow and Turi Create start once
    instead of for every request (~3 s each)."""
    import turicreate as tc

    events.emit("ready", versions=versions(tc))
    for line in sys.stdin:
        try:
            request = json.loads(line)
            args = argparse.Namespace(
                model=request["model"],
                data=request["data"],
                out=request["out"],
                output_frequency=request.get("output_frequency", "per_row"),
            )
            predict(args, events, capture)
        except InputError as error:
            events.emit("error", status=2, message=str(error))
        except Exception as error:  # Turi Create's own, or a malformed request
            import traceback

            traceback.print_exc()
            events.emit("error", status=1, message=f"Turi Create failed: {error}")


# --------------------------------------------------------------------------- main


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="runner.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    train_cmd = commands.add_parser("train", help="train, evaluate, save and export a model")
    train_cmd.add_argument("--data", required=True, help="stacked rows CSV")
    train_cmd.add_argument("--params", required=True, help="params JSON")
    train_cmd.add_argument("--out", required=True, help="output directory")
    predict_cmd = commands.add_parser("predict", help="probabilities from a saved model")
    predict_cmd.add_argument("--model", required=True, help="model directory (model.save)")
    predict_cmd.add_argument("--data", required=True, help="stacked rows CSV")
    predict_cmd.add_argument("--out", required=True, help="output CSV")
    predict_cmd.add_argument(
        "--output-frequency", choices=("per_row", "per_window"), default="per_row"
    )
    commands.add_parser("serve", help="answer predict requests on stdin until it closes")
    return parser.parse_args(argv)


def die_with_parent():
    """If the engine is killed (OOM, SIGKILL), the kernel ends this process too (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def main(argv=None):
    args = parse_args(argv)
    if args.command != "serve":  # a server ends when its stdin closes: its parent is gone
        die_with_parent()
    # Keep Turi Create's scratch files and server log out of /tmp unless the caller chose.
    scratch = None
    if "TURI_CACHE_FILE_LOCATIONS" not in os.environ or "TURI_LOG_PATH" not in os.environ:
        scratch = tempfile.mkdtemp(prefix="motionlab-tc-")
        os.environ.setdefault("TURI_CACHE_FILE_LOCATIONS", scratch)
        os.environ.setdefault("TURI_LOG_PATH", scratch)
    events = Events(os.fdopen(os.dup(1), "w"))
    capture = StdoutCapture(events)
    capture.start()
    status = 0
    try:
        if args.command == "serve":
            serve(events, capture)
        else:
            (train if args.command == "train" else predict)(args, events, capture)
    except InputError as error:
        sys.stderr.write(f"error: {error}\n")
        status = 2
    except Exception as error:  # Turi Create raises ToolkitError / RuntimeError / ValueError
        import traceback

        traceback.print_exc()
        sys.stderr.write(f"error: Turi Create failed: {error}\n")
        status = 1
    finally:
        capture.stop()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
