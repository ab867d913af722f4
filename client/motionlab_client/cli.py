"""The user commands of `motionlab`, on the client: upload, sessions, train, runs, compare,
pull, promote, project.

The server's `motionlab` adds them to its own (serve, worker, migrate, token); the light
distribution (motionlab-client) has only these (`main`).

The server's address, token and project come from --url / --token / --project, else
MOTIONLAB_URL / MOTIONLAB_TOKEN / MOTIONLAB_PROJECT (else the default project). Exit status: 0
done, 1 the run failed or was canceled, 2 a usage error (or a local file that is not there), 3
the server refused the request (its problem is printed), 4 the server was not reached. --json
prints what the API answered, for scripts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from motionlab_client.flags import add_run_flags, cli_hint
from motionlab_client.formats import MODEL_FILES

EXIT_RUN_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_UNREACHABLE = 4
# What a Unix tool reports when a closed pipe (`motionlab runs | head`) ends it: 128 + SIGPIPE.
EXIT_CLOSED_PIPE = 141


def add_user_commands(commands: Any) -> None:
    from motionlab_client import commands as cmd

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="the server (default: MOTIONLAB_URL, else 127.0.0.1:8000)")
    common.add_argument("--token", help="an API token (default: MOTIONLAB_TOKEN)")
    common.add_argument(
        "--project", help="the project (default: MOTIONLAB_PROJECT, else the default one)"
    )
    common.add_argument("--json", action="store_true", help="print the API's JSON answer")

    def add(name: str, help: str, run: Any) -> argparse.ArgumentParser:
        parser = commands.add_parser(name, help=help, description=help, parents=[common])
        parser.set_defaults(run=lambda args: main_of(run, args, name))
        return parser

    upload = add("upload", "upload files and folders of sessions", cmd.upload)
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
    upload.add_argument("--session-id", help="the id of a file's one session (default: its name)")
    upload.add_argument("--split", choices=["train", "valid", "test"])
    upload.add_argument("--sample-rate-hz", type=float)
    upload.add_argument("--format", choices=["csv", "json", "edge-impulse", "sensor-logger"])
    upload.add_argument("--replace", action="store_true", help="overwrite different content")
    upload.add_argument(
        "--channels",
        metavar="DECLARATIONS",
        help="what columns hold where their names do not say it, e.g. "
        "accX=accelerometer.x:m/s2,gyrX=:deg/s (README: Channels and units)",
    )
    for column, default in COLUMNS:
        upload.add_argument(
            f"--{column}-column", metavar="NAME", help=f"the CSV's {column} column ({default})"
        )
    upload.add_argument("-v", "--verbose", action="store_true", help="a line per session")

    sessions = add("sessions", "list stored sessions", cmd.sessions)
    for name in ("activity", "subject", "split"):
        sessions.add_argument(f"--{name}")

    train = add("train", "start a training run (--follow: watch it to the end)", cmd.train)
    add_run_flags(train)
    train.add_argument("--follow", action="store_true", help="show progress, then the metrics")

    runs = add("runs", "list runs as a table", cmd.runs)
    runs.add_argument("--experiment")
    runs.add_argument("--status")
    runs.add_argument("--sort", default="-created_at", help="e.g. -test_accuracy")

    compare = add(
        "compare", "compare runs: engine, recipe, differing parameters, metrics", cmd.compare
    )
    compare.add_argument("run_ids", nargs="+", metavar="RUN")

    pull = add("pull", "download a registered model (only when it changed)", cmd.pull)
    pull.add_argument("model", help="e.g. GestureClassifier")
    pull.add_argument("--alias", default="production", help="alias, version or latest")
    pull.add_argument("-o", "--output", help="where to write it (default: MODEL.<format>)")
    pull.add_argument(
        "--format",
        choices=list(MODEL_FILES),
        default="mlmodel",
        help="Core ML (default), ONNX, or the zipped Core ML ML Program",
    )

    promote = add("promote", "register a run as a model version and move an alias", cmd.promote)
    promote.add_argument("run_id", metavar="RUN")
    promote.add_argument("--model", default="GestureClassifier")
    promote.add_argument("--alias", default="production")

    project = add("project", "list, create or delete projects (an admin token)", cmd.project)
    project.add_argument("action", choices=["list", "create", "delete"])
    project.add_argument("name", nargs="?", help="the project to create or delete")


COLUMNS = (
    ("session", "sessionId"),
    ("label", "activity"),
    ("subject", "subject"),
    ("split", "split"),
    ("timestamp", "timestamp"),
)


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


def main_of(command: Any, args: argparse.Namespace, name: str) -> None:
    """Run a command with a client; errors become a message and an exit status."""
    from motionlab_client import Client, InputError, MotionlabError, RunFailed

    try:
        with Client(args.url, args.token, project=args.project) as client:
            command(client, args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
    except BrokenPipeError:
        _closed_pipe()
    except RunFailed as error:
        _fail(error.message, EXIT_RUN_FAILED)
    except InputError as error:
        _fail(error.message, EXIT_USAGE)
    except MotionlabError as error:
        if args.json:
            print(json.dumps(error.problem))
        _fail(cli_hint(error.message, name), EXIT_REFUSED if error.status else EXIT_UNREACHABLE)
    except OSError as error:  # a model file that cannot be written there
        _fail(str(error), EXIT_USAGE)


def _closed_pipe() -> None:
    """The reader went away (`| head`): stop quietly, as a Unix tool does. Python would
    otherwise complain again when it flushes stdout at exit."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(EXIT_CLOSED_PIPE)


def _fail(message: str, status: int) -> None:
    print(f"motionlab: {message}", file=sys.stderr)
    sys.exit(status)


def build_parser() -> argparse.ArgumentParser:
    """The light distribution's `motionlab`: the user commands only."""
    parser = argparse.ArgumentParser(prog="motionlab", description=__doc__)
    add_user_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(attach_option_values(sys.argv[1:] if argv is None else argv))
    args.run(args)
