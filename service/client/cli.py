"""The user commands of `motionlab`, on the client: upload, sessions, train, runs, compare,
pull, promote.

The server's address and token come from --url / --token, else MOTIONLAB_URL /
MOTIONLAB_TOKEN. Exit status: 0 done, 1 the run failed or was canceled, 3 the server refused
the request (its problem is printed), 4 the server was not reached, 2 a usage error. --json
prints what the API answered, for scripts.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from service.client.formats import MODEL_FILES

EXIT_RUN_FAILED = 1
EXIT_REFUSED = 3
EXIT_UNREACHABLE = 4


def add_user_commands(commands: Any) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="the server (default: MOTIONLAB_URL, else 127.0.0.1:8000)")
    common.add_argument("--token", help="an API token (default: MOTIONLAB_TOKEN)")
    common.add_argument("--json", action="store_true", help="print the API's JSON answer")

    def add(name: str, help: str, run: Any) -> argparse.ArgumentParser:
        parser = commands.add_parser(name, help=help, description=help, parents=[common])
        parser.set_defaults(run=lambda args: main_of(run, args))
        return parser

    upload = add("upload", "upload files and folders of sessions", cmd_upload)
    upload.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="files (.csv .json .cbor .zip, "
        ".gz) or folders: data/walking/*.csv is labelled walking",
    )
    upload.add_argument("--activity", help="the label of every file (default: its folder)")
    upload.add_argument("--subject", help="who recorded them")
    upload.add_argument(
        "--subject-from",
        metavar="REGEX",
        help="the subject from each path "
        "below the folder: the regular expression's 'subject' (or first) group, "
        r"e.g. '^[^/]+/(?P<subject>[a-z]+)-'",
    )
    upload.add_argument("--split", choices=["train", "valid", "test"])
    upload.add_argument("--sample-rate-hz", type=float)
    upload.add_argument("--format", choices=["csv", "json", "edge-impulse", "sensor-logger"])
    upload.add_argument("--replace", action="store_true", help="overwrite different content")

    sessions = add("sessions", "list stored sessions", cmd_sessions)
    for name in ("activity", "subject", "split"):
        sessions.add_argument(f"--{name}")

    train = add("train", "start a training run (--follow: watch it to the end)", cmd_train)
    train.add_argument("--window", type=int, dest="prediction_window", help="samples per window")
    train.add_argument("--iterations", type=int, dest="max_iterations")
    train.add_argument("--batch-size", type=int)
    train.add_argument("--seed", type=int, dest="random_seed")
    train.add_argument("--experiment")
    train.add_argument("--name")
    train.add_argument("--engine")
    train.add_argument("--features", help="comma-separated feature columns")
    train.add_argument(
        "--split", dest="split_strategy", choices=["column", "session", "subject", "auto", "none"]
    )
    train.add_argument("--follow", action="store_true", help="show progress, then the metrics")

    runs = add("runs", "list runs as a table", cmd_runs)
    runs.add_argument("--experiment")
    runs.add_argument("--status")
    runs.add_argument("--sort", default="-created_at", help="e.g. -test_accuracy")

    compare = add("compare", "compare runs: differing parameters, metrics", cmd_compare)
    compare.add_argument("run_ids", nargs="+", metavar="RUN")

    pull = add("pull", "download a registered model (only when it changed)", cmd_pull)
    pull.add_argument("model", help="e.g. GestureClassifier")
    pull.add_argument("--alias", default="production", help="alias, version or latest")
    pull.add_argument("-o", "--output", help="where to write it (default: MODEL.<format>)")
    pull.add_argument(
        "--format",
        choices=list(MODEL_FILES),
        default="mlmodel",
        help="Core ML (default), ONNX, or the zipped Core ML ML Program",
    )

    promote = add("promote", "register a run as a model version and move an alias", cmd_promote)
    promote.add_argument("run_id", metavar="RUN")
    promote.add_argument("--model", default="GestureClassifier")
    promote.add_argument("--alias", default="production")


def attach_option_values(argv: list[str]) -> list[str]:
    """`--sort -test_accuracy` as `--sort=-test_accuracy`: argparse takes a value starting
    with "-" for an option of its own."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1] == "--sort" and arg.startswith("-"):
            out[-1] = f"--sort={arg}"
        else:
            out.append(arg)
    return out


def main_of(command: Any, args: argparse.Namespace) -> None:
    """Run a command with a client; errors become a message and an exit status."""
    from service.client import Client, MotionlabError, RunFailed

    try:
        with Client(args.url, args.token) as client:
            command(client, args)
    except RunFailed as error:
        _fail(error.message, EXIT_RUN_FAILED)
    except MotionlabError as error:
        if args.json:
            print(json.dumps(error.problem))
        _fail(error.message, EXIT_REFUSED if error.status else EXIT_UNREACHABLE)
    except (ValueError, OSError) as error:  # a path that is not there, a bad pattern
        _fail(str(error), 2)


def _fail(message: str, status: int) -> None:
    print(f"motionlab: {message}", file=sys.stderr)
    sys.exit(status)


def _out(args: argparse.Namespace, document: Any, text: str) -> None:
    print(json.dumps(document, indent=2, default=str) if args.json else text)


def cmd_upload(client: Any, args: argparse.Namespace) -> None:
    stored: list[dict] = []
    for path in args.paths:
        stored += client.upload(
            path,
            activity=args.activity,
            subject=args.subject,
            subject_from=args.subject_from,
            split=args.split,
            sample_rate_hz=args.sample_rate_hz,
            format=args.format,
            replace=args.replace,
        )
    new = sum(1 for s in stored if s["created"] or s.get("replaced"))
    lines = [
        f"{s['id']}: {s['rows']} rows, {len(s['features'])} features, "
        f"{'stored' if s['created'] or s.get('replaced') else 'unchanged'}"
        for s in stored
    ]
    _out(args, stored, "\n".join([*lines, f"{len(stored)} sessions, {new} new or replaced"]))


def cmd_sessions(client: Any, args: argparse.Namespace) -> None:
    from service.client.render import table

    items = client.sessions(activity=args.activity, subject=args.subject, split=args.split)
    rows = [
        [
            s["id"],
            s["activity"],
            s["subject"],
            s["split"],
            s["row_count"],
            s["sample_rate_hz"],
            ",".join(s["features"]),
        ]
        for s in items
    ]
    header = ["id", "activity", "subject", "split", "rows", "rate_hz", "features"]
    _out(args, items, table(header, rows))


def cmd_train(client: Any, args: argparse.Namespace) -> None:
    from service.client.render import confusion_matrix, metrics_table

    names = (
        "prediction_window",
        "max_iterations",
        "batch_size",
        "random_seed",
        "experiment",
        "name",
        "engine",
    )
    fields = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    if args.features:
        fields["features"] = [f.strip() for f in args.features.split(",") if f.strip()]
    if args.split_strategy:
        fields["split"] = {"strategy": args.split_strategy}
    run = client.train(**fields)
    print(f"run {run.id} queued", file=sys.stderr)
    if not args.follow:
        _out(args, run.data, run.id)
        return
    run.wait(progress=not args.json, check=False)
    if run.status != "succeeded":
        from service.client import RunFailed

        if args.json:
            print(json.dumps(run.data, default=str))
        raise RunFailed(run.id, run.status, run.data.get("error_message"))
    metrics = run.metrics()
    text = [f"run {run.id} succeeded", "", metrics_table(metrics)]
    for part in ("test", "validation", "train"):
        if isinstance(metrics.get(part), dict):
            text += ["", f"confusion matrix ({part})", confusion_matrix(metrics[part])]
            break
    _out(args, {"run": run.data, "metrics": metrics}, "\n".join(text))


def cmd_runs(client: Any, args: argparse.Namespace) -> None:
    from service.client.render import runs_table

    runs = client.runs(experiment=args.experiment, status=args.status, sort=args.sort)
    _out(args, [run.data for run in runs], runs_table(runs))


def cmd_compare(client: Any, args: argparse.Namespace) -> None:
    from service.client.render import comparison_table

    runs = [client.run(run_id) for run_id in args.run_ids]
    _out(args, [run.data for run in runs], comparison_table(runs))


def cmd_pull(client: Any, args: argparse.Namespace) -> None:
    pulled = client.pull(args.model, args.alias, args.output, file_format=args.format)
    state = "downloaded" if pulled.changed else "unchanged (not downloaded)"
    document = {"path": str(pulled.path), "changed": pulled.changed, "sha256": pulled.sha256}
    _out(args, document, f"{pulled.path}: {state}, sha256 {pulled.sha256[:12]}")


def cmd_promote(client: Any, args: argparse.Namespace) -> None:
    version = client.register(args.run_id, args.model)
    alias = client.set_alias(args.model, args.alias, version["version"])
    text = f"{args.model} version {version['version']} (run {args.run_id}) is now {args.alias}"
    _out(args, {"version": version, "alias": alias}, text)
