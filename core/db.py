"""Database engine and sessions. SQLite gets WAL, a busy timeout and foreign keys on;
PostgreSQL (psycopg 3) a connection pool sized for the process that opens it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Executable, Table, create_engine, event, insert
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
# PostgreSQL connections each process keeps (SQLAlchemy's QueuePool: one per process, no pool
# server to run), as many again under bursts. A worker, a training child or a CLI command uses
# one connection at a time; an API process serves requests on up to 40 threads, but a request
# holds its connection only for its queries: 10 (+10) per API process keeps `api_processes` ×
# 21 + workers × 5 (with the listeners of core/notify.py) under PostgreSQL's default 100.
PROCESS_POOL_SIZE = 1
API_POOL_SIZE = 10


def make_engine(url: str, *, pool_size: int = PROCESS_POOL_SIZE) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:
        # Autocommit mode for the pragma statements (journal_mode cannot run in a transaction).
        previous = dbapi_connection.isolation_level
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        dbapi_connection.isolation_level = previous

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: Callable[[], Session]) -> Iterator[Session]:
    """Commit on success, roll back on any error: the one place a transaction ends."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def rows_changed(db: Session, statement: Executable) -> int:
    """Execute an UPDATE / DELETE and return how many rows it changed."""
    return cast(CursorResult, db.execute(statement)).rowcount


def insert_rows(
    db: Session, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """INSERT rows of plain values (JSON columns already serialised), each a tuple in the order
    of `columns`, in one executemany straight to the driver: SQLAlchemy's bind processing per
    value took 1-2 s of a run's creation over 10,000 sessions on a loaded machine."""
    if not rows:
        return
    connection = db.connection()
    compiled = insert(table).compile(dialect=connection.dialect, column_keys=list(columns))
    parameters: Sequence[Any]
    if not compiled.positional:  # PostgreSQL (psycopg): named parameters
        parameters = [dict(zip(columns, row, strict=True)) for row in rows]
    elif list(compiled.positiontup or []) == list(columns):
        parameters = rows  # SQLite, columns in the table's order: as they are
    else:
        order = [list(columns).index(key) for key in compiled.positiontup or []]
        parameters = [tuple(row[i] for i in order) for row in rows]
    connection.exec_driver_sql(str(compiled), parameters)


def after_commit(session: Session, callback) -> None:
    """Run `callback` once the session's transaction has committed (e.g. drop a blob file)."""
    session.info.setdefault("after_commit", []).append(callback)


def after_rollback(session: Session, callback) -> None:
    """Run `callback` if the session's transaction rolls back (e.g. remove blobs it wrote)."""
    session.info.setdefault("after_rollback", []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    session.info.pop("after_rollback", None)
    for callback in session.info.pop("after_commit", []):
        callback()


@event.listens_for(Session, "after_soft_rollback")
def _run_after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is not None:
        return  # a savepoint, not the outer transaction
    session.info.pop("after_commit", None)
    for callback in session.info.pop("after_rollback", []):
        callback()
