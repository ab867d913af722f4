"""A throwaway PostgreSQL cluster for the tests, from this machine's PostgreSQL binaries.

The `postgres_cluster` fixture (one per test session, tests/conftest.py): `initdb` + `pg_ctl`
in a temporary directory, its unix socket in that directory, trust authentication; migrated
once into a template database. `postgres_url` (one per test): a fresh database copied from that
template (`CREATE DATABASE … TEMPLATE`, far faster than migrating), dropped afterwards.

PostgreSQL refuses to run as root: as root, the cluster's files belong to the `postgres` user
(or `nobody`) and its commands run as that user (`runuser`).

Missing binaries skip the PostgreSQL tests, except when CI or MOTIONLAB_REQUIRE_POSTGRES is set:
then they fail.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from core.migrate import upgrade

TEMPLATE = "motionlab_template"
ROOT_PREFIX = "motionlab-pg-"  # + the test session's pid: /tmp/motionlab-pg-<pid>-<random>
USER = "motionlab"
# No TCP (listen_addresses=''): the port only names the socket file in the cluster's own directory.
PORT = 5432
# Durability off: a test cluster lives minutes, and fsync on every commit is most of its time.
SERVER_OPTIONS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "32MB",
}


def postgres_bindir() -> Path | None:
    """Where initdb and pg_ctl are (`pg_config --bindir`; Debian's server package alone puts
    them under /usr/lib/postgresql/<version>/bin, pg_config coming with libpq-dev), or None."""
    candidates = []
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidates.append(Path(found.stdout.strip()))
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    newest_first = sorted(versions, key=lambda path: _version(path.parent.name), reverse=True)
    candidates += newest_first
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    return None


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


class PostgresCluster:
    """One initdb'd cluster, started on a free port; `database_url()` names a database in it."""

    def __init__(self, bindir: Path, root: Path):
        self.bindir = bindir
        self.data = root / "data"
        self.socket_dir = root
        self.port = PORT
        self._as_user: list[str] = []
        self._names = itertools.count()
        # What lives in this cluster until the test session ends (a served home on one of its
        # databases): closed before the cluster stops.
        self.resources = contextlib.ExitStack()
        if os.geteuid() == 0:
            owner = _unprivileged_user()
            os.chown(root, owner.pw_uid, owner.pw_gid)
            self._as_user = ["runuser", "-u", owner.pw_name, "--"]

    def _run(self, tool: str, *args: str) -> None:
        command = [*self._as_user, str(self.bindir / tool), *args]
        subprocess.run(command, check=True, capture_output=True, cwd=self.socket_dir)

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", USER, "-E", "UTF8")
        options = " ".join(f"-c {name}={value}" for name, value in SERVER_OPTIONS.items())
        options += f" -p {self.port} -k {self.socket_dir} -c listen_addresses=''"
        log = str(self.socket_dir / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-w", "-o", options, "start")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def database_url(self, database: str) -> str:
        return f"postgresql+psycopg://{USER}@/{database}?host={self.socket_dir}&port={self.port}"

    def admin(self) -> psycopg.Connection:
        """An autocommit connection to the `postgres` database (CREATE / DROP DATABASE)."""
        return psycopg.connect(
            host=str(self.socket_dir), port=self.port, user=USER, dbname="postgres", autocommit=True
        )

    def create_database(self, template: str | None = None) -> str:
        name = f"test_{os.getpid()}_{next(self._names)}"
        with self.admin() as connection:
            copy = f" TEMPLATE {template}" if template else ""
            connection.execute(f"CREATE DATABASE {name}{copy}")
        return name

    def drop_database(self, name: str) -> None:
        with self.admin() as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def migrated_template(self) -> None:
        with self.admin() as connection:
            connection.execute(f"CREATE DATABASE {TEMPLATE}")
        upgrade(self.database_url(TEMPLATE))

    def copy_database(self, source: str) -> str:
        """A new database holding what `source` holds now (pg_dump | psql): unlike CREATE
        DATABASE … TEMPLATE, `source` may be in use meanwhile. The new database's name."""
        name = self.create_database()
        client = ["-h", str(self.socket_dir), "-p", str(self.port), "-U", USER]
        dump = subprocess.run(
            [str(self.bindir / "pg_dump"), *client, "-d", source],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [str(self.bindir / "psql"), *client, "-d", name, "-q", "-v", "ON_ERROR_STOP=1"],
            input=dump.stdout,
            check=True,
            capture_output=True,
        )
        return name

    def fresh_database(self) -> str:
        """A new database with the schema migrated to head; its name."""
        return self.create_database(template=TEMPLATE)

    def long_lived_database(self) -> str:
        """The URL of a fresh migrated database kept until the cluster stops (`resources`)."""
        name = self.fresh_database()
        self.resources.callback(self.drop_database, name)
        return self.database_url(name)


def _unprivileged_user() -> pwd.struct_passwd:
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root and no `postgres` or `nobody` user to run PostgreSQL as")


def stop_abandoned_clusters(bindir: Path) -> None:
    """Clusters of test sessions that were killed (no finalizer ran): their server is stopped
    and their directory removed. The owner's pid is in the directory's name."""
    for root in Path(tempfile.gettempdir()).glob(f"{ROOT_PREFIX}*-*"):
        owner = root.name.removeprefix(ROOT_PREFIX).split("-")[0]
        if not owner.isdigit() or Path(f"/proc/{owner}").exists():
            continue
        PostgresCluster(bindir, root).stop()
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def running_cluster(bindir: Path) -> Iterator[PostgresCluster]:
    """A started cluster with the migrated template, stopped and removed afterwards (what lives
    in it until then, `resources`, closes first)."""
    stop_abandoned_clusters(bindir)
    root = Path(tempfile.mkdtemp(prefix=f"{ROOT_PREFIX}{os.getpid()}-"))
    cluster = PostgresCluster(bindir, root)
    try:
        cluster.start()
        cluster.migrated_template()
        yield cluster
    finally:
        cluster.resources.close()
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


DATABASES = ["sqlite", "postgresql"]
# A test that only PostgreSQL concerns (its locks, NOTIFY): the `database` it runs on.
on_postgresql = pytest.mark.parametrize("database", ["postgresql"], indirect=True, scope="module")
