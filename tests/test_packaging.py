"""motionlab as a container installs it: built into an sdist, then a wheel, installed (not
editable) into a fresh virtualenv outside the checkout; `motionlab migrate && motionlab serve`
from there, then an upload and one training run.

The fresh virtualenv gets its dependencies (torch …) from this project's virtualenv through a
.pth line, so nothing is downloaded or copied; the checkout itself is never on its path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path

import httpx
import pytest

from tests.support.paths import REPO
from tests.support.runs import start_run, upload_tiny, wait_for
from tests.support.servers import free_port, wait_until_ready

pytestmark = pytest.mark.system

DASHBOARD_ASSETS = (
    "/static/js/run.js",
    "/static/dashboard.css",
    "/static/vendor/chart.js/chart.umd.min.js",
    "/static/vendor/swagger-ui-dist/swagger-ui-bundle.js",
    "/static/vendor/redoc/redoc.standalone.js",
)
SOURCE_IGNORE = shutil.ignore_patterns(
    ".git", ".venv*", "var", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "tests"
)


def run(*command, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{command}: {result.stdout}\n{result.stderr}"
    return result


def build_wheel_from_sdist(work: Path) -> Path:
    """sdist from a copy of the source (the checkout stays clean), then a wheel from the sdist."""
    source = work / "source"
    shutil.copytree(REPO, source, ignore=SOURCE_IGNORE)
    build_sdist = "from setuptools import build_meta as b; print(b.build_sdist(r'{out}'))"
    sdist = work / "sdist"
    name = run(sys.executable, "-c", build_sdist.format(out=sdist), cwd=source).stdout.split()[-1]
    with tarfile.open(sdist / name) as archive:
        members = archive.getnames()
        assert any(m.endswith("migrations/versions/0001_initial_schema.py") for m in members)
        archive.extractall(work / "unpacked", filter="data")
    unpacked = next((work / "unpacked").iterdir())
    run(
        sys.executable,
        *("-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"),
        *("-w", str(work / "wheels"), str(unpacked)),
    )
    return next((work / "wheels").glob("motionlab-*.whl"))


def fresh_virtualenv(work: Path, wheel: Path) -> Path:
    venv = work / "venv"
    run(getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", str(venv))
    python = venv / "bin" / "python"
    site_packages = run(
        str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    ).stdout.strip()
    # The dependencies from this project's virtualenv, after the venv's own site-packages.
    (Path(site_packages) / "motionlab-deps.pth").write_text(sysconfig.get_paths()["purelib"])
    run(
        sys.executable,
        *("-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)),
    )
    return venv


def test_the_installed_package_migrates_serves_and_trains(tmp_path):
    venv = fresh_virtualenv(tmp_path, build_wheel_from_sdist(tmp_path))
    elsewhere = tmp_path / "elsewhere"  # neither the checkout nor the venv
    elsewhere.mkdir()
    port = free_port()
    environment = {
        **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
        "MOTIONLAB_HOME": str(tmp_path / "home"),
        "MOTIONLAB_PORT": str(port),
        "MOTIONLAB_WORKERS": "1",
        "MOTIONLAB_HEARTBEAT_INTERVAL_S": "0.2",
        "MOTIONLAB_POLL_INTERVAL_S": "0.1",
        "MOTIONLAB_LOG_LEVEL": "WARNING",
    }
    where = run(
        str(venv / "bin" / "python"),
        "-c",
        "import core.migrate, service; print(core.migrate.MIGRATIONS_DIR)",
        cwd=elsewhere,
        env=environment,
    ).stdout.strip()
    assert where.startswith(str(venv)), where  # the installed copy, not the checkout
    motionlab = str(venv / "bin" / "motionlab")
    run(motionlab, "migrate", cwd=elsewhere, env=environment)
    server = subprocess.Popen([motionlab, "serve"], cwd=elsewhere, env=environment)
    try:
        wait_until_ready(server, port)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as api:
            upload_tiny(api)
            run_id = start_run(api, prediction_window=5, max_iterations=2, random_seed=1)
            finished = wait_for(api, run_id, {"succeeded", "failed"}, timeout_s=180)
            assert finished["status"] == "succeeded", finished
            assert api.get(f"/v1/runs/{run_id}/model.mlmodel").status_code == 200
            # The dashboard and the docs, with their assets, ship inside the package.
            for asset in ("/", f"/runs/{run_id}", *DASHBOARD_ASSETS):
                assert api.get(asset).status_code == 200, asset
    finally:
        server.terminate()
        server.wait(30)
