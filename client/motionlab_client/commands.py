"""What each user command does with the client, and what it prints (cli.py parses).

httpx is imported by the command that runs, not here: `motionlab serve` parses its arguments
with these commands defined and needs none of it.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from motionlab_client.flags import UPLOAD_PARAMETERS, cli_hint, run_fields
from motionlab_client.render import (
    comparison_table,
    confusion_matrix,
    metrics_table,
    runs_table,
    table,
    upload_summary,
)

if TYPE_CHECKING:
    from motionlab_client.client import Client


def _out(args: argparse.Namespace, document: Any, text: str) -> None:
    print(json.dumps(document, indent=2, default=str) if args.json else text)


def upload(client: Client, args: argparse.Namespace) -> None:
    # Every query parameter of an upload is a flag of the same name (flags.py).
    options = {name: getattr(args, name) for name in UPLOAD_PARAMETERS if name != "replace"}
    stored: list[dict] = []
    for path in args.paths:
        stored += client.upload(
            path, replace=args.replace, subject_from=args.subject_from, **options
        )
    _warn(stored)
    lines = [
        f"{s['id']}: {s['rows']} rows, {len(s['features'])} features, {_fate(s)}" for s in stored
    ]
    summary = upload_summary(stored, [_fate(s) for s in stored])
    _out(args, stored, "\n".join([*lines, summary] if args.verbose else [summary]))


SHOWN_WARNINGS = 3  # of an upload's sessions; the rest are counted


def _warn(stored: list[dict]) -> None:
    """A contradicted unit is never silent: the first sessions' warnings, then a count."""
    warned = [s for s in stored if s.get("warnings")]
    for session in warned[:SHOWN_WARNINGS]:
        warning = cli_hint(session["warnings"][0], "upload")
        print(f"motionlab: {session['id']}: {warning}", file=sys.stderr)
    if len(warned) > SHOWN_WARNINGS:
        print(
            f"motionlab: {len(warned)} sessions have warnings in all "
            "(`motionlab sessions --json` or GET /v1/sessions/{id} says each one's)",
            file=sys.stderr,
        )


def _fate(session: dict) -> str:
    if session.get("replaced"):
        return "replaced"
    return "stored" if session["created"] else "unchanged"


def sessions(client: Client, args: argparse.Namespace) -> None:
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


def train(client: Client, args: argparse.Namespace) -> None:
    run = client.train(**run_fields(args))
    engine, recipe = run.data.get("engine"), run.data.get("recipe")
    print(f"run {run.id} queued ({engine} engine, {recipe} recipe)", file=sys.stderr)
    if not args.follow:
        _out(args, run.data, run.id)
        return
    run.wait(progress=not args.json, check=False)
    if run.status != "succeeded":
        from motionlab_client.errors import RunFailed

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


def runs(client: Client, args: argparse.Namespace) -> None:
    found = client.runs(experiment=args.experiment, status=args.status, sort=args.sort)
    _out(args, [run.data for run in found], runs_table(found))


def compare(client: Client, args: argparse.Namespace) -> None:
    found = [client.run(run_id) for run_id in args.run_ids]
    _out(args, [run.data for run in found], comparison_table(found))


def pull(client: Client, args: argparse.Namespace) -> None:
    pulled = client.pull(args.model, args.alias, args.output, file_format=args.format)
    state = "downloaded" if pulled.changed else "unchanged (not downloaded)"
    document = {"path": str(pulled.path), "changed": pulled.changed, "sha256": pulled.sha256}
    _out(args, document, f"{pulled.path}: {state}, sha256 {pulled.sha256[:12]}")


def promote(client: Client, args: argparse.Namespace) -> None:
    version = client.register(args.run_id, args.model)
    alias = client.set_alias(args.model, args.alias, version["version"])
    text = f"{args.model} version {version['version']} (run {args.run_id}) is now {args.alias}"
    _out(args, {"version": version, "alias": alias}, text)


def project(client: Client, args: argparse.Namespace) -> None:
    if args.action == "list":
        found = client.projects()
        rows = [[p["name"], p["created_at"]] for p in found]
        _out(args, found, table(["project", "created"], rows))
        return
    if not args.name:
        from motionlab_client.errors import InputError

        raise InputError("Missing project", f"`motionlab project {args.action} NAME`")
    if args.action == "create":
        created = client.create_project(args.name)
        _out(args, created, f"project {created['name']} created")
    else:
        client.delete_project(args.name)
        _out(args, {"deleted": args.name}, f"project {args.name} deleted")
