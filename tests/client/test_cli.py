"""The user CLI (`motionlab upload | sessions | train | runs | compare | promote | pull`) run
as a user runs it, against a live server with a real worker; its exit codes and --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from core.migrate import upgrade
from core.settings import Settings
from motionlab_client.render import table
from tests.support.cli import motionlab
from tests.support.homes import FAST
from tests.support.paths import BASICMOTIONS_CSV
from tests.support.runs import running_workers
from tests.support.servers import LiveServer, free_port

pytestmark = pytest.mark.system  # the CLI as a user runs it: a process per command


def test_quickstart_with_the_cli(live, tmp_path):
    """Upload, train --follow (progress, metrics table, confusion matrix), runs, compare,
    promote, pull (downloaded, then unchanged): each exits 0."""
    url = live.url
    upload = motionlab("upload", str(BASICMOTIONS_CSV), "--sample-rate-hz", "10", url=url)
    assert upload.returncode == 0, upload.stderr
    # One line for the whole upload; --verbose adds one per session.
    assert upload.stdout.splitlines() == [
        "80 sessions (80 stored), 8,000 rows, 6 features: accelX, accelY, accelZ, rotX, rotY, rotZ"
    ]
    again = motionlab(
        "upload", str(BASICMOTIONS_CSV), "--sample-rate-hz", "10", "--verbose", url=url
    )
    assert again.returncode == 0, again.stderr
    *sessions, summary = again.stdout.splitlines()
    assert len(sessions) == 80 and sessions[0].endswith(": 100 rows, 6 features, unchanged")
    assert summary.startswith("80 sessions (80 unchanged), 8,000 rows")

    train = motionlab(
        "train",
        "--window",
        "10",
        "--iterations",
        "3",
        "--seed",
        "1",
        "--split",
        "column",
        "--experiment",
        "cli",
        "--follow",
        url=url,
    )
    assert train.returncode == 0, train.stderr
    assert "3/3" in train.stderr  # the progress bar's last state (one line per iteration)
    assert "train acc" in train.stderr
    assert "accuracy" in train.stdout and "confusion matrix (test)" in train.stdout
    for activity in ("Badminton", "Running", "Standing", "Walking"):
        assert activity in train.stdout
    first = train.stdout.split()[1]  # "run <id> succeeded"

    started = motionlab(
        "train",
        "--window",
        "10",
        "--iterations",
        "1",
        "--split",
        "column",
        "--experiment",
        "cli",
        "--json",
        url=url,
    )
    assert started.returncode == 0, started.stderr
    second = json.loads(started.stdout)["id"]

    runs = motionlab("runs", "--experiment", "cli", "--sort", "-test_accuracy", url=url)
    assert runs.returncode == 0 and first in runs.stdout and second in runs.stdout
    header, _, *rows = runs.stdout.splitlines()
    assert header.split()[3:6] == ["status", "engine", "recipe"]
    assert all(row.split()[3:6] == ["succeeded", "torch", "motionlab"] for row in rows[:1])
    listed = motionlab("runs", "--experiment", "cli", "--json", url=url)
    assert {r["id"] for r in json.loads(listed.stdout)} == {first, second}

    compare = motionlab("compare", first, second, url=url)
    assert compare.returncode == 0, compare.stderr
    assert "max_iterations" in compare.stdout and "random_seed" in compare.stdout
    engine_row, recipe_row = compare.stdout.splitlines()[2:4]  # shown even when the same
    assert engine_row.split() == ["engine", "torch", "torch"]
    assert recipe_row.split() == ["recipe", "motionlab", "motionlab"]

    promote = motionlab("promote", first, "--model", "GestureClassifier", url=url)
    assert promote.returncode == 0, promote.stderr
    assert "GestureClassifier version 1" in promote.stdout

    target = tmp_path / "GestureClassifier.mlmodel"
    pull = ["pull", "GestureClassifier", "--alias", "production", "-o", str(target)]
    downloaded = motionlab(*pull, url=url)
    assert downloaded.returncode == 0 and "downloaded" in downloaded.stdout
    assert target.stat().st_size > 0
    unchanged = motionlab(*pull, "--json", url=url)
    assert unchanged.returncode == 0 and json.loads(unchanged.stdout)["changed"] is False
    zipped = tmp_path / "GestureClassifier.mlpackage.zip"
    package = motionlab(*pull[:4], "-o", str(zipped), "--format", "mlpackage", "--json", url=url)
    assert package.returncode == 0, package.stderr
    assert json.loads(package.stdout)["changed"] is True
    assert zipped.read_bytes()[:2] == b"PK"  # a zip archive


def test_upload_of_a_folder_labels_by_sub_folder(live, tmp_path):
    rows = "timestamp,ax,ay\n" + "".join(f"{i / 10},{i},{-i}\n" for i in range(12))
    for relative in ("jumping/p1-a.csv", "jumping/p2-b.csv", "sitting/p1-c.csv"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(rows)
    result = motionlab(
        "upload", str(tmp_path), "--subject-from", r"/(?P<subject>p\d)-", "--json", url=live.url
    )
    assert result.returncode == 0, result.stderr
    assert sorted(s["id"] for s in json.loads(result.stdout)) == [
        "jumping-p1-a",
        "jumping-p2-b",
        "sitting-p1-c",
    ]
    listed = motionlab("sessions", "--activity", "jumping", "--json", url=live.url)
    assert {s["subject"] for s in json.loads(listed.stdout)} == {"p1", "p2"}


def test_exit_codes(live, tmp_path):
    """2: usage; 3: the server refused (its problem on stderr, and as JSON with --json);
    4: no server there."""
    assert motionlab("pull").returncode == 2
    refused = motionlab("pull", "NoSuchModel", "-o", str(tmp_path / "m"), url=live.url)
    assert refused.returncode == 3
    assert "404 Not found" in refused.stderr and "NoSuchModel" in refused.stderr
    as_json = motionlab("train", "--window", "0", "--json", url=live.url)
    assert as_json.returncode == 3
    assert json.loads(as_json.stdout)["status"] == 422
    nobody = motionlab("runs", url=f"http://127.0.0.1:{free_port()}")
    assert nobody.returncode == 4 and "is `motionlab serve` running" in nobody.stderr
    missing = motionlab("upload", str(tmp_path / "nothing.csv"), url=live.url)
    assert missing.returncode == 2 and "nothing.csv" in missing.stderr


def test_hints_name_the_clis_flags(live, tmp_path):
    """The server's hints name HTTP parameters and JSON fields; the CLI names its flags."""
    one_session = tmp_path / "rec.csv"
    one_session.write_text("sessionId,x,y\nrec,1,2\nrec,3,4\n")
    upload = motionlab("upload", str(one_session), url=live.url)
    assert upload.returncode == 3, upload.stderr
    assert "--label-column" in upload.stderr and "--activity" in upload.stderr
    assert "?" not in upload.stderr
    train = motionlab("train", "--window", "5000", url=live.url)
    assert train.returncode == 3, train.stderr
    assert "--window" in train.stderr and "prediction_window" not in train.stderr


def test_a_closed_pipe_ends_quietly(live):
    """`motionlab runs | head`: the reader is gone before the table is written; the command
    ends as a Unix tool does (status 141, 128 + SIGPIPE), with nothing on stderr."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    environment = {**os.environ, "MOTIONLAB_URL": live.url, "MOTIONLAB_LOG_LEVEL": "WARNING"}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "service.cli", "sessions"],
            env=environment,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 141
    assert result.stderr == ""


def test_a_failed_run_exits_1(tmp_path):
    """A worker that allows a run half a second fails it: `train --follow` says why and
    exits 1, so CI stops."""
    settings = Settings(home=tmp_path / "home", workers=0, **FAST)
    settings.home.mkdir()
    upgrade(settings.resolved_database_url)
    with LiveServer(settings) as server, running_workers(settings, 1, max_run_time_s=0.5):
        with httpx.Client(base_url=server.url) as api:
            api.post(
                "/v1/sessions?sample_rate_hz=10",
                content=BASICMOTIONS_CSV.read_bytes(),
                headers={"Content-Type": "text/csv"},
            )
        result = motionlab(
            "train", "--window", "10", "--iterations", "400", "--follow", url=server.url
        )
    assert result.returncode == 1, result.stderr
    assert "failed" in result.stderr and "maximum run time" in result.stderr


def test_user_commands_do_not_log_each_http_request(live):
    """The server's default log level (INFO) must not print httpx's request lines."""
    listed = motionlab("sessions", url=live.url, MOTIONLAB_LOG_LEVEL="INFO")
    assert listed.returncode == 0, listed.stderr
    assert "HTTP Request" not in listed.stderr


def test_an_empty_listing_is_a_table_with_its_header_only():
    assert table(["id", "rows"], []).splitlines() == ["id  rows", "--  ----"]


def test_upload_says_which_units_the_values_contradict_and_takes_channels(live, tmp_path):
    """A gyroscope recorded in deg/s under names that say rad/s: stored, with the warning on
    stderr naming the flag that fixes it; declared with --channels, the same file is clean."""
    degrees = [[200.0 * (i % 7 - 3), 150.0, -90.0] for i in range(60)]  # far beyond 35 rad/s
    recording = tmp_path / "spin.csv"
    recording.write_text("wx,wy,wz\n" + "".join(",".join(map(str, r)) + "\n" for r in degrees))
    inferred = motionlab(
        "upload", str(recording), "--activity", "spin", "--session-id", "spin-1", url=live.url
    )
    assert inferred.returncode == 0, inferred.stderr
    assert "motionlab: spin-1: the gyroscope (wx, wy, wz, in rad/s)" in inferred.stderr
    assert "look like deg/s" in inferred.stderr
    assert "--channels wx=:deg/s,wy=:deg/s,wz=:deg/s" in inferred.stderr, inferred.stderr
    declared = motionlab(
        "upload",
        str(recording),
        *("--activity", "spin", "--session-id", "spin-2", "--json"),
        *("--channels", "wx=:deg/s,wy=:deg/s,wz=:deg/s"),
        url=live.url,
    )
    assert declared.returncode == 0, declared.stderr
    assert declared.stderr == ""
    [stored] = json.loads(declared.stdout)
    assert stored["channels"] == {
        "wx": "gyroscope.x:deg/s",
        "wy": "gyroscope.y:deg/s",
        "wz": "gyroscope.z:deg/s",
    }
    assert stored["warnings"] == []
