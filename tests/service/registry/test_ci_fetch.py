"""The CI examples (client/ci/) fetch a registered model with the light client, run as written
against a live server: the GitHub Actions steps' shell, and the Xcode build phase script.

The light client is the motionlab-client wheel built from client/, installed into a fresh
virtualenv that sees httpx and its dependencies only (linked from this project's env, so that
nothing is downloaded): neither the server's code nor torch can be imported there.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from tests.support.paths import REPO
from tests.support.servers import free_port

CI = REPO / "client" / "ci"
MODEL = "CiModel"


def run(*command, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{command}: {result.stdout}\n{result.stderr}"
    return result


def distribution_closure(name: str) -> set[str]:
    """`name` and every distribution it requires on this interpreter (no extras)."""
    seen, todo = set(), [name]
    while todo:
        dist = importlib.metadata.distribution(todo.pop())
        if dist.metadata["Name"].lower() in seen:
            continue
        seen.add(dist.metadata["Name"].lower())
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return seen


def link_packages(names: set[str], folder: Path) -> None:
    """Links to the top-level modules of these distributions, in one folder."""
    folder.mkdir()
    for name in names:
        dist = importlib.metadata.distribution(name)
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if ".dist-info" not in str(f)}
        for top in tops - {"..", "bin"}:
            source = Path(str(dist.locate_file(top)))
            if source.exists() and not (folder / top).exists():
                (folder / top).symlink_to(source)


@pytest.fixture(scope="module")
def light(tmp_path_factory) -> Iterator[dict[str, Path]]:
    """A wheel of the light client, and the folder holding only httpx and what it needs."""
    work = tmp_path_factory.mktemp("light")
    source = work / "client"
    shutil.copytree(REPO / "client", source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    run(
        sys.executable,
        *("-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"),
        *("-w", str(work / "wheels"), str(source)),
    )
    link_packages(distribution_closure("httpx"), work / "httpx-only")
    yield {
        "wheel": next((work / "wheels").glob("motionlab_client-*.whl")),
        "deps": work / "httpx-only",
    }


@pytest.fixture
def production(served, served_api) -> str:
    """MODEL's production alias on a served run; its Core ML file's bytes are the reference."""
    if served_api.get(f"/v1/models/{MODEL}").status_code == 404:
        version = served_api.post(f"/v1/models/{MODEL}/versions", json={"run_id": served.run_id})
        assert version.status_code == 201, version.text
        alias = {"version": version.json()["version"]}
        assert served_api.put(f"/v1/models/{MODEL}/aliases/production", json=alias).is_success
    return served.url


def see_httpx_only(python: Path, deps: Path) -> None:
    """The dependencies pip would have downloaded: httpx's, linked from this project's env."""
    site = run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    (Path(site.stdout.strip()) / "httpx-only.pth").write_text(str(deps))


def environment(**values: str | Path) -> dict[str, str]:
    """The shell's environment: none of this project's variables, nor its virtualenv."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("MOTIONLAB_", "VIRTUAL"))}
    return {**keep, **{name: str(value) for name, value in values.items()}}


def test_github_actions_steps_install_the_light_client_and_pull(light, production, tmp_path):
    steps = yaml.safe_load((CI / "github-actions.yml").read_text())["jobs"]["build"]["steps"]
    install, fetch = (
        next(s for s in steps if s.get("name", "").startswith(w)) for w in ("Install", "Fetch")
    )
    assert MODEL not in fetch["run"]  # the example names GestureClassifier: run it for MODEL
    bin_dir = tmp_path / "python"  # `python3`: this interpreter, outside any virtualenv
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(getattr(sys, "_base_executable", sys.executable))
    runner = tmp_path / "runner"
    runner.mkdir()
    github_path = tmp_path / "github-path"
    github_path.touch()
    # pip takes the wheel built here, and no dependency from an index: they are linked below.
    run(
        "bash",
        "-euo",
        "pipefail",
        "-c",
        install["run"],
        env=environment(
            PATH=f"{bin_dir}:{os.environ['PATH']}",
            RUNNER_TEMP=runner,
            GITHUB_PATH=github_path,
            MOTIONLAB_CLIENT=light["wheel"],
            PIP_NO_INDEX="1",
            PIP_NO_DEPS="1",
        ),
        cwd=tmp_path,
    )
    venv_bin = Path(github_path.read_text().strip())
    assert venv_bin == runner / "motionlab" / "bin"
    see_httpx_only(venv_bin / "python", light["deps"])
    heavy = (
        "import importlib.util as u; print([m for m in ('service', 'core', 'torch', 'numpy', "
        "'pyarrow', 'coremltools') if u.find_spec(m)])"
    )
    assert run(str(venv_bin / "python"), "-c", heavy, cwd=tmp_path).stdout.strip() == "[]"

    app = tmp_path / "app"
    (app / "App" / "Models").mkdir(parents=True)
    fetch_env = environment(
        PATH=f"{venv_bin}:{os.environ['PATH']}", MOTIONLAB_URL=production, MOTIONLAB_TOKEN=""
    )
    command = fetch["run"].replace("GestureClassifier ", f"{MODEL} ")
    first = run("bash", "-euo", "pipefail", "-c", command, env=fetch_env, cwd=app)
    assert "downloaded" in first.stdout
    model = app / "App" / "Models" / "GestureClassifier.mlmodel"
    assert model.stat().st_size > 0
    again = run("bash", "-euo", "pipefail", "-c", command, env=fetch_env, cwd=app)
    assert "unchanged (not downloaded)" in again.stdout


def test_xcode_build_phase_fetches_and_builds_offline_with_a_warning(light, production, tmp_path):
    venv = tmp_path / "venv"
    run(getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", str(venv))
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        str(venv / "bin" / "python"),
        "install",
        "--no-deps",
        "--no-index",
        str(light["wheel"]),
    )
    see_httpx_only(venv / "bin" / "python", light["deps"])
    source_root = tmp_path / "App"
    source_root.mkdir()
    script = str(CI / "xcode-build-phase.sh")

    def build_phase(url: str) -> subprocess.CompletedProcess:
        values = {"SRCROOT": source_root, "MODEL": MODEL, "MOTIONLAB": venv / "bin" / "motionlab"}
        return subprocess.run(
            ["sh", script],
            env=environment(MOTIONLAB_URL=url, **values),
            capture_output=True,
            text=True,
            timeout=120,
        )

    nowhere = f"http://127.0.0.1:{free_port()}"
    never_fetched = build_phase(nowhere)
    assert never_fetched.returncode == 1 and never_fetched.stdout.startswith("error: motionlab:")
    fetched = build_phase(production)
    assert fetched.returncode == 0, fetched.stderr
    assert (source_root / f"{MODEL}.mlmodel").stat().st_size > 0
    offline = build_phase(nowhere)
    assert offline.returncode == 0 and offline.stdout.startswith("warning: motionlab:")
