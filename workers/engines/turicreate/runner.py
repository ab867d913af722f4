"""Turi Create 6.4.1 runner: the child process of motionlab's `turicreate` engine.

Runs under the Python 3.8 env (`make turicreate-env`); the standard library, NumPy (Turi
Create's own dependency) and turicreate only. The worker side is runner_client.py beside it;
exchange.py and results.py describe the files.

    runner.py train   --data DIR --params params.json --out DIR [--wait]
    runner.py predict --model DIR --data DIR --out DIR [--output-frequency per_row|per_window]

`--wait`: read one line, `go`, from stdin before reading the data. The engine starts the runner
first and writes the data while Python 3.8, TensorFlow and Turi Create load (seconds).

stdout carries only JSON lines ({"event": ...}); everything else goes to stderr. Turi Create
prints its progress table (through Python's print, from C++) and Keras its progress bars to
fd 1, so fd 1 is pointed into a pipe for the whole run: a thread parses the table into one
"iteration" event per row and forwards other text to stderr. Exit status: 0 ok, 2 bad input,
1 Turi Create failed.
"""

import argparse
import contextlib
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
MANIFEST = "manifest.json"  # the data directory's description (exchange.py writes it)
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


def read_manifest(directory):
    try:
        with open(os.path.join(directory, MANIFEST)) as f:
            manifest = json.load(f)
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read the data in {directory}: {error}") from None
    unknown = sorted(set(manifest.get("parts", {})) - set(PARTS))
    if unknown or not manifest.get("parts"):
        raise InputError(f"the data's parts must be among {', '.join(PARTS)}; got {unknown}")
    return manifest


def require_columns(manifest, needed):
    have = [manifest["session_column"]] + list(manifest["features"])
    if manifest.get("target_column") is not None:
        have.append(manifest["target_column"])
    missing = [name for name in needed if name not in have]
    if missing:
        raise InputError(f"the data lacks column(s) {', '.join(missing)} (it has: {', '.join(have)})")


def read_parts(tc, directory, manifest, features):
    """{part: SFrame}: session id (an int per session), the target (when the data has one),
    then `features` as float columns, rows in the written order.

    A session is a contiguous run of rows (Turi Create's rule), so the runner numbers them
    instead of repeating each id on every row; the engine maps the numbers back.
    """
    import numpy as np

    session_column, target = manifest["session_column"], manifest.get("target_column")
    positions = [manifest["features"].index(name) for name in features]
    frames = {}
    for part in PARTS:
        info = manifest["parts"].get(part)
        if info is None:
            continue
        path = lambda name: os.path.join(directory, "{}.{}.npy".format(part, name))  # noqa: E731
        lengths = np.load(path("session_lengths"))
        values = np.load(path("features"), mmap_mode="r")  # (F, N) float32: a column a row
        rows = int(lengths.sum())
        if values.shape != (len(manifest["features"]), rows) or rows == 0:
            raise InputError(f"part {part!r}: features {values.shape} do not match its sessions")
        sessions = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        columns = {session_column: tc.SArray(sessions, dtype=int)}
        names = [session_column]
        if target is not None:
            columns[target] = label_column(tc, np.load(path("targets")), manifest["classes"])
            names.append(target)
        for name, position in zip(features, positions):
            columns[name] = tc.SArray(np.array(values[position], dtype=np.float64), dtype=float)
            names.append(name)
        frames[part] = tc.SFrame(columns)[names]
    return frames


def label_column(tc, codes, classes):
    """An SArray of the labels that `codes` index in `classes`.

    Strings go in as one list (Turi Create converts ~1 us a string). Building them in C++ with
    one SArray.where per class was no faster past 4 classes, and Turi Create 6.4.1 crashes
    (SIGSEGV in its query executor) evaluating such a chain unless each step is materialised.
    """
    import numpy as np

    labels = np.asarray(classes, dtype=object)[codes]
    if all(isinstance(c, int) and not isinstance(c, bool) for c in classes):
        return tc.SArray(labels.astype(np.int64), dtype=int)
    return tc.SArray(labels.tolist(), dtype=str)


def check_parts(parts, params):
    if "valid" in parts and params["validation"] != "split":
        raise InputError("rows with part 'valid' need params.validation 'split'")
    if "train" not in parts:
        raise InputError("no rows with part 'train'")


def wait_for_data():
    """The engine writes the data while this process starts; it says `go` once it is whole."""
    line = sys.stdin.readline()
    if line.strip() != "go":
        raise InputError("the engine went away before its data was written")


# --------------------------------------------------------------------------- outputs


def write_probabilities(directory, probabilities, extra=None):
    """probabilities.npy (M, C) float64, and each of `extra` (SArrays) as <name>.npy."""
    import numpy as np

    os.makedirs(directory, exist_ok=True)
    frame = tc_frame_of_vectors(probabilities)
    matrix = frame.to_numpy() if frame.num_columns() else np.zeros((len(probabilities), 0))
    np.save(os.path.join(directory, "probabilities.npy"), matrix.astype(np.float64))
    for name, column in (extra or {}).items():
        np.save(os.path.join(directory, name + ".npy"), np.asarray(column, dtype=np.int64))


def tc_frame_of_vectors(vectors):
    """An SFrame of one float column per vector position, in position order."""
    import turicreate as tc

    frame = tc.SFrame({"p": vectors}).unpack("p", column_name_prefix="p")
    return frame[["p.{}".format(i) for i in range(frame.num_columns())]]


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
    os.makedirs(args.out, exist_ok=True)

    import turicreate as tc

    if args.wait:
        wait_for_data()
    manifest = read_manifest(args.data)
    require_columns(manifest, [params["session_id"], params["target"]] + params["features"])
    if manifest.get("target_column") != params["target"]:
        raise InputError(f"the data has no target column {params['target']!r}")
    tc.config.set_runtime_config(TICK_PRINT_CONFIG, 0)
    parts = read_parts(tc, args.data, manifest, params["features"])
    check_parts(parts, params)
    part_info = {
        part: {"rows": manifest["parts"][part]["rows"], "sessions": manifest["parts"][part]["sessions"]}
        for part in parts
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

    # No prediction of the parts here: the engine computes the run's metrics from the exported
    # model (model.mlmodel), which predicts what Turi Create does (tests prove it within 1e-4)
    # in a fraction of the time Turi Create's predict and evaluate took.
    classes = list(model.classes)
    files = {"model": "model", "mlmodel": "model.mlmodel"}
    model.save(os.path.join(args.out, files["model"]))
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


def write_json(path, document):
    """Written whole or not at all: a reader never sees half a file."""
    with open(path + ".partial", "w") as f:
        json.dump(_json_safe(document), f, indent=1)
    os.replace(path + ".partial", path)


def predict(args, events, capture):
    """Turi Create's own predictions (the reference the exported model is tested against)."""
    import turicreate as tc

    try:
        model = tc.load_model(args.model)
    except Exception as error:
        raise InputError(f"cannot load a Turi Create model from {args.model}: {error}") from None
    manifest = read_manifest(args.data)
    require_columns(manifest, list(model.features))
    manifest = dict(manifest, target_column=None)  # prediction reads no labels
    parts = read_parts(tc, args.data, manifest, list(model.features))
    rows = parts[next(iter(parts))].rename({manifest["session_column"]: model.session_id})
    if args.output_frequency == "per_row":
        probabilities = model.predict(rows, output_type="probability_vector")
        write_probabilities(args.out, probabilities)
        count = len(probabilities)
    else:
        windows = model.predict(
            rows, output_type="probability_vector", output_frequency="per_window"
        )
        write_probabilities(
            args.out,
            windows["probability_vector"],
            extra={"session": windows[model.session_id], "prediction_id": windows["prediction_id"]},
        )
        count = windows.num_rows()
    capture.sync()
    events.emit(
        "done",
        output_frequency=args.output_frequency,
        rows=rows.num_rows(),
        predictions=count,
        classes=list(model.classes),
        versions=versions(tc),
    )


# --------------------------------------------------------------------------- main


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="runner.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    train_cmd = commands.add_parser("train", help="train, save and export a model")
    train_cmd.add_argument("--data", required=True, help="data directory (exchange.py)")
    train_cmd.add_argument("--params", required=True, help="params JSON")
    train_cmd.add_argument("--out", required=True, help="output directory")
    train_cmd.add_argument("--wait", action="store_true", help="read `go` on stdin first")
    predict_cmd = commands.add_parser("predict", help="probabilities from a saved model")
    predict_cmd.add_argument("--model", required=True, help="model directory (model.save)")
    predict_cmd.add_argument("--data", required=True, help="data directory (exchange.py)")
    predict_cmd.add_argument("--out", required=True, help="output directory")
    predict_cmd.add_argument(
        "--output-frequency", choices=("per_row", "per_window"), default="per_row"
    )
    return parser.parse_args(argv)


def die_with_parent():
    """If the engine is killed (OOM, SIGKILL), the kernel ends this process too (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def main(argv=None):
    args = parse_args(argv)
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
    exit_status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Without TensorFlow's and Turi Create's teardown: seconds after the last event, and now
    # and then an abort ("exception not rethrown") that would fail a finished run. Everything
    # this process leaves is written and flushed by now.
    os._exit(exit_status)
