"""docker-compose.yml, the Dockerfiles and .dockerignore hold together (no Docker engine here):
every reference points at something that exists, and the settings they set are ones the code
reads."""

from __future__ import annotations

import fnmatch
import importlib
import re
import shlex
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import make_url

from core.settings import Settings
from service.cli import build_parser
from tests.support.paths import REPO
from workers.engines.registry import engines

pytestmark = pytest.mark.unit

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES: dict = COMPOSE["services"]
POSTGRES_COMPOSE = yaml.safe_load((REPO / "docker-compose.postgres.yml").read_text())
SETTINGS = {f"MOTIONLAB_{name.upper()}" for name in Settings.model_fields}
# Read by the scripts / engines directly rather than through Settings.
OTHER_VARIABLES = {"MOTIONLAB_TURICREATE_VENV", "MOTIONLAB_TURICREATE_PYTHON"}
LONG_RUNNING = ("api", "worker", "worker-turicreate")


def dockerfile(service: dict) -> Path:
    build = service["build"]
    context, name = (
        (build, "Dockerfile")
        if isinstance(build, str)
        else (
            build["context"],
            build.get("dockerfile", "Dockerfile"),
        )
    )
    return REPO / context / name


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", path.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def dockerignored(path: str) -> bool:
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = Path(path).parts
    return any(
        fnmatch.fnmatch(path, p.removeprefix("**/"))
        or any(fnmatch.fnmatch(part, p.removeprefix("**/")) for part in parts)
        for p in patterns
    )


DOCKERFILES = sorted({dockerfile(s) for s in SERVICES.values() if "build" in s})


def test_services_wait_for_a_one_shot_migrate():
    assert SERVICES["migrate"]["command"] == ["motionlab", "migrate"]
    assert SERVICES["migrate"].get("restart", "no") == "no"
    for name in LONG_RUNNING:
        service = SERVICES[name]
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert service["restart"] == "unless-stopped"
    for service in SERVICES.values():
        for dependency in service.get("depends_on", {}):
            assert dependency in SERVICES


def test_every_command_is_one_the_cli_accepts():
    for name, service in SERVICES.items():
        command = service["command"]
        assert command[0] == "motionlab", name
        arguments = build_parser().parse_args(command[1:])  # SystemExit if it does not exist
        for engine in getattr(arguments, "engine", None) or []:
            assert engine in engines(), f"{name}: unknown engine {engine}"


def test_the_api_is_healthy_only_when_ready_and_publishes_its_port():
    api = SERVICES["api"]
    assert "/readyz" in " ".join(api["healthcheck"]["test"])
    published = {int(p.split(":")[-1]) for p in api["ports"]}
    assert published == {Settings().port}
    api_dockerfile = instructions(dockerfile(api))
    assert any(i == "HEALTHCHECK" and "/readyz" in args for i, args in api_dockerfile)
    assert ("EXPOSE", str(Settings().port)) in api_dockerfile


def test_the_turicreate_worker_is_amd64_and_runs_as_the_apis_user():
    assert SERVICES["worker-turicreate"]["platform"] == "linux/amd64"
    users = {service["user"] for service in SERVICES.values()}
    assert len(users) == 1 and not next(iter(users)).startswith("0")
    uid = next(iter(users)).split(":")[0]
    for path in DOCKERFILES:
        steps = instructions(path)
        assert ("ARG", f"MOTIONLAB_UID={uid}") in steps, path.name
        assert any(i == "RUN" and 'useradd --uid "$MOTIONLAB_UID"' in a for i, a in steps)
        users_set = [args for i, args in steps if i == "USER"]
        assert users_set and users_set[-1] == "motionlab", path.name


def test_environment_variables_are_settings_the_code_reads():
    for name, service in SERVICES.items():
        for variable in service.get("environment", {}):
            assert variable in SETTINGS | OTHER_VARIABLES, f"{name}: {variable}"
    for path in DOCKERFILES:
        for instruction, args in instructions(path):
            if instruction == "ENV":
                for variable in re.findall(r"(MOTIONLAB_\w+)=", args):
                    assert variable in SETTINGS | OTHER_VARIABLES, f"{path.name}: {variable}"


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_every_copied_path_exists_and_is_in_the_build_context(path):
    for instruction, args in instructions(path):
        if instruction != "COPY":
            continue
        *sources, _destination = shlex.split(args)
        for source in sources:
            assert (REPO / source).exists(), f"{path.name}: COPY {source}"
            assert not dockerignored(source), f"{path.name}: {source} is in .dockerignore"


def test_the_build_context_leaves_out_virtualenvs_and_runtime_state():
    for heavy in (".venv", ".venv-turicreate", "var", ".git", "tests", "x/__pycache__"):
        assert dockerignored(heavy), heavy
    for needed in ("core", "service", "workers", "client", "pyproject.toml", "README.md", "data"):
        assert not dockerignored(needed), needed


def test_torch_workers_scale_without_clashing():
    """`--scale worker=4` needs a service without a fixed container name or published port,
    and the API must leave training to the workers, or two pools would compete for the CPUs."""
    worker = SERVICES["worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert build_parser().parse_args(worker["command"][1:]).engine == ["torch"]
    assert SERVICES["api"]["environment"]["MOTIONLAB_WORKERS"] == "0"


def test_the_postgres_override_starts_a_healthy_postgres_that_every_service_uses():
    services: dict = POSTGRES_COMPOSE["services"]
    postgres = services.pop("postgres")
    assert postgres["image"].startswith("postgres:")
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in POSTGRES_COMPOSE["volumes"], "data on a named volume"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    user = postgres["environment"]["POSTGRES_USER"]
    database = postgres["environment"]["POSTGRES_DB"]
    assert set(services) == set(SERVICES), "every motionlab service moves to PostgreSQL"
    for name, service in services.items():
        assert service["depends_on"]["postgres"] == {"condition": "service_healthy"}, name
        url = make_url(service["environment"]["MOTIONLAB_DATABASE_URL"])
        assert url.drivername == "postgresql+psycopg", name
        assert (url.host, url.username, url.database) == ("postgres", user, database), name
    importlib.import_module("psycopg")  # the driver that URL names is installed
