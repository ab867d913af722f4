"""Apply and check Alembic migrations programmatically (used by the CLI and the tests).

The migrations ship with the code (the top-level `migrations` package and its data), so an
installed motionlab (a wheel, a container image) migrates its database without a checkout.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

import migrations
from core.db import make_engine

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent


class SchemaNotCurrent(RuntimeError):
    """The database's schema revision is not the one this code was written for."""


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def check(database_url: str) -> None:
    """Raise if the ORM models and the migrations disagree (alembic check)."""
    command.check(alembic_config(database_url))


def head_revision() -> str:
    """The revision this code expects: the newest migration shipped with it."""
    head = _scripts().get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise SchemaNotCurrent(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite database URL (None: another database, or in memory)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def current_revision(database_url: str) -> str | None:
    """The database's revision; None when it was never migrated (or does not exist yet)."""
    file = sqlite_file(database_url)
    if file is not None and not file.exists():
        return None  # opening it would create it (or fail: its folder is not there either)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as error:
        reason = str(error.orig or error).splitlines()[0]
        raise SchemaNotCurrent(
            f"the database {redact(database_url)} cannot be opened ({reason}): check "
            "MOTIONLAB_HOME / MOTIONLAB_DATABASE_URL"
        ) from None
    finally:
        engine.dispose()


def require_current(database_url: str) -> str:
    """The database's revision, or SchemaNotCurrent saying what to do about it."""
    head, current = head_revision(), current_revision(database_url)
    if current == head:
        return current
    if current is None:
        file = sqlite_file(database_url)
        where = (
            f" ({file} is under the current directory: run this where `motionlab migrate` ran, "
            "or set MOTIONLAB_HOME)"
            if file is not None and not file.is_absolute()
            else ""
        )
        raise SchemaNotCurrent(
            f"the database {redact(database_url)} has no schema yet: run `motionlab migrate` "
            f"first (or `motionlab serve --migrate`){where}"
        )
    if current not in {script.revision for script in _scripts().walk_revisions()}:
        raise SchemaNotCurrent(
            f"the database {redact(database_url)} is at revision {current}, which this version "
            f"of motionlab does not know (it expects {head}): upgrade motionlab"
        )
    raise SchemaNotCurrent(
        f"the database {redact(database_url)} is at revision {current}, this code needs {head}: "
        "run `motionlab migrate` (or `motionlab serve --migrate`)"
    )


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def redact(database_url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(database_url).render_as_string(hide_password=True)
