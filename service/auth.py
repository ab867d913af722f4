"""Tokens and scopes: who is calling, and what each route needs.

A bearer token carries scopes: `upload` (add sessions: a phone app), `read` (every GET and
download: CI), `train` (runs, cancel, predict, evaluate: a developer), `admin` (everything,
including deletes, the registry's writes, replacing sessions, tokens and the audit log).
`admin` implies the others; the others imply nothing.

REQUIRED_SCOPES is the one table that says which scope a request needs, from its method and
the path template of the route it matches: a route added later falls under the rule of its
method (GET: read; any other method: admin) until the table says otherwise, so it can never
be reached without a token. Tokens live hashed in the database (`motionlab token create`) or
come from the environment (MOTIONLAB_TOKENS, MOTIONLAB_TOKENS_FILE) for containers.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator
from sqlalchemy import Compiled, Dialect, Engine, Select, bindparam, select

from core.db import SQLITE_BUSY_TIMEOUT_MS
from core.models import ApiToken, Project
from core.settings import Settings
from service.errors import ServiceError
from service.scopes import Scope

TOKEN_PREFIX = "mlt_"
# Where the routes of an explicit project are mounted; the same routes under /v1 are the
# default project's (service/projects/routes.py).
PROJECT_PREFIX = "/v1/projects/{project}"
MIN_ENV_TOKEN_LENGTH = 24


READ_METHODS = frozenset({"GET", "HEAD"})
# Liveness and readiness probes, and the API's description: Swagger UI (/docs) loads
# /openapi.json before anyone can click its Authorize button. Neither shows any data.
# The dashboard's pages and assets (service.dashboard) hold no data either: their scripts
# read the API with the visitor's token.
OPEN_PATHS = frozenset(
    {"/healthz", "/readyz", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
    | {"/", "/sessions/{session_id}", "/runs", "/runs/{run_id}", "/compare", "/models"}
    | {"/sweeps/{sweep_id}", "/tokens", "/collect", "/collect.sw.js"}
    | {"/static/{file_path:path}"}
)
# (methods or "*", path template pattern, scope): the first rule that matches decides.
REQUIRED_SCOPES: list[tuple[str, str, Scope]] = [
    ("*", "/v1/tokens*", Scope.ADMIN),
    ("*", "/v1/collect-tokens", Scope.ADMIN),  # the dashboard's QR code for /collect
    ("*", "/v1/audit*", Scope.ADMIN),
    ("*", "/v1/projects*", Scope.ADMIN),  # creating, listing, deleting projects
    # Live classification (WebSocket handshakes are GETs): predicting, like predict.
    ("GET", "/v1/runs/*/live", Scope.TRAIN),
    ("GET", "/v1/models/*/*/live", Scope.TRAIN),
    # A recorder offers the labels in use: an upload token reads them (and nothing else).
    ("GET HEAD", "/v1/labels", Scope.UPLOAD),
    ("GET HEAD", "*", Scope.READ),
    ("POST", "/v1/sessions", Scope.UPLOAD),  # with ?replace=true: admin (see required_scope)
    ("POST", "/v1/runs", Scope.TRAIN),
    ("POST", "/v1/runs/*/cancel", Scope.TRAIN),
    ("POST", "/v1/sweeps", Scope.TRAIN),
    ("POST", "/v1/sweeps/*/cancel", Scope.TRAIN),
    ("POST", "/v1/runs/*/predict", Scope.TRAIN),
    ("POST", "/v1/runs/*/evaluate", Scope.TRAIN),
    ("POST", "/v1/models/*/*/predict", Scope.TRAIN),
    ("POST", "/v1/models/*/*/evaluate", Scope.TRAIN),
    ("*", "*", Scope.ADMIN),  # every other write: deletes, registry, anything new
]
# The routes of the whole server rather than of a project: only a token of every project.
EVERY_PROJECT_ROUTES = frozenset(
    {"/v1/tokens*", "/v1/collect-tokens", "/v1/projects", "/v1/projects/*", "/metrics"}
)


def serves_every_project(template: str) -> bool:
    return not template.startswith(PROJECT_PREFIX + "/") and any(
        fnmatchcase(template, pattern) for pattern in EVERY_PROJECT_ROUTES
    )


# A boolean query parameter's spellings: pydantic's (what FastAPI accepts for a `bool`).
FLAG_VALUES = {
    **dict.fromkeys(("1", "t", "true", "y", "yes", "on"), True),
    **dict.fromkeys(("0", "f", "false", "n", "no", "off"), False),
}


def query_flag(value: object) -> bool:
    """The one reading of a boolean query parameter, shared by the routes (`QueryFlag`) and the
    guard, so that the scope checked is the scope of what the route does. ValueError (a 422 in
    a route) for anything but FLAG_VALUES, in any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in FLAG_VALUES:
        return FLAG_VALUES[value.lower()]
    raise ValueError(f"{str(value)[:20]!r} is not a boolean: send true or false")


QueryFlag = Annotated[bool, BeforeValidator(query_flag)]


def required_scope(
    method: str, path: str, query: Mapping[str, Sequence[str]] | None = None
) -> Scope | None:
    """The scope a request needs (None: open to anyone), from the route's path template and
    its query parameters (name → every value given). A route of an explicit project
    (/v1/projects/{project}/…) needs what the same route of the default project does."""
    scope = _scope_of_route(method, unscoped(path))
    if scope == Scope.UPLOAD and _asks_for(query or {}, "replace"):
        return Scope.ADMIN  # overwriting stored sessions is not adding them
    return scope


def unscoped(template: str) -> str:
    """/v1/projects/{project}/sessions → /v1/sessions: the route as the default project has it."""
    if template.startswith(PROJECT_PREFIX + "/"):
        return "/v1" + template[len(PROJECT_PREFIX) :]
    return template


def _asks_for(query: Mapping[str, Sequence[str]], flag: str) -> bool:
    """Whether any value of the flag may read as true: a value the route would refuse, or a
    repeated parameter, needs the stronger scope too (the guard never guesses low)."""
    for value in query.get(flag, ()):
        try:
            if query_flag(value):
                return True
        except ValueError:
            return True
    return False


@functools.lru_cache(maxsize=1024)  # (method, path template): a few dozen in all
def _scope_of_route(method: str, path: str) -> Scope | None:
    if method in READ_METHODS and path in OPEN_PATHS:
        return None
    for methods, pattern, scope in REQUIRED_SCOPES:
        if (methods == "*" or method in methods.split()) and fnmatchcase(path, pattern):
            return scope
    raise AssertionError("the last rule matches everything")  # pragma: no cover


class Unauthorized(ServiceError):
    status_code, error, kind, title = 401, "Unauthorized", "unauthorized", "Unauthorized"


class Forbidden(ServiceError):
    status_code, error, kind, title = 403, "Forbidden", "forbidden", "Forbidden"


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: a token, or `local` (no tokens exist: loopback only); in every
    project (`projects` None: tokens from before projects, configured ones) or in some."""

    name: str
    scopes: frozenset[Scope]
    token_id: str | None = None
    projects: frozenset[str] | None = None

    def allows(self, scope: Scope) -> bool:
        return Scope.ADMIN in self.scopes or scope in self.scopes

    def covers(self, project: str) -> bool:
        return self.projects is None or project in self.projects


LOCAL = Principal("local", frozenset({Scope.ADMIN}))
CLI = Principal("cli", frozenset({Scope.ADMIN}))
# The principal of the request being served: set by the guard, read by the audit log.
CURRENT_PRINCIPAL: ContextVar[Principal] = ContextVar("principal", default=CLI)


def hash_token(token: str) -> str:
    """Tokens are 32 random bytes: a plain sha256 is enough (no password stretching)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """(public id, token): the id shows in lists and revocations, the token only once."""
    token_id = secrets.token_hex(4)
    return token_id, f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"


def parse_scopes(values: list[str] | str) -> frozenset[Scope]:
    names = values.replace("+", ",").split(",") if isinstance(values, str) else values
    scopes = set()
    for name in (n.strip() for n in names if n.strip()):
        try:
            scopes.add(Scope(name))
        except ValueError:
            raise ValueError(f"unknown scope {name!r}: choose from {', '.join(Scope)}") from None
    if not scopes:
        raise ValueError(f"a token needs at least one scope: {', '.join(Scope)}")
    return frozenset(scopes)


def environment_tokens(settings: Settings) -> dict[str, Principal]:
    """sha256 → principal for MOTIONLAB_TOKENS and MOTIONLAB_TOKENS_FILE entries.

    An entry is `name:scope+scope:token`; a file holds one a line (`#` comments). A malformed
    entry or a short token is an error at start, never a silently open server.
    """
    lines = settings.tokens.get_secret_value().split(",")
    if settings.tokens_file is not None:
        lines += Path(settings.tokens_file).read_text().splitlines()
    found: dict[str, Principal] = {}
    for number, line in enumerate(lines, 1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        parts = entry.split(":", 2)
        if len(parts) != 3 or not parts[0] or len(parts[2]) < MIN_ENV_TOKEN_LENGTH:
            raise ValueError(
                f"token entry {number} is not `name:scope+scope:token` with a token of at "
                f"least {MIN_ENV_TOKEN_LENGTH} characters (`openssl rand -hex 32` makes one)"
            )
        name, scopes, token = parts
        try:
            scope_set = parse_scopes(scopes)
        except ValueError as error:
            raise ValueError(f"token entry {number} ({name}): {error}") from None
        digest = hash_token(token)
        found[digest] = Principal(name, scope_set, token_id=f"env:{digest[:8]}")
    return found


_LIVE = ApiToken.revoked_at.is_(None)
TOKEN_BY_DIGEST = select(
    ApiToken.id, ApiToken.name, ApiToken.scopes, ApiToken.expires_at, ApiToken.projects
).where(ApiToken.token_sha256 == bindparam("digest"), _LIVE)
PROJECT_BY_NAME = select(Project.name).where(Project.name == bindparam("name"))
ANY_LIVE_TOKEN = select(ApiToken.id).where(_LIVE).limit(1)


class Authenticator:
    """Resolves bearer tokens: the environment's, then the database's. Revocation is immediate:
    every request reads the token's row.

    The guard asks on the event loop for every request, so on a SQLite file the reads go
    straight to one DBAPI connection of their own (a few µs) instead of through a pooled
    SQLAlchemy connection and its transaction (~150 µs of CPU, the largest cost of a small
    predict). Python's sqlite3 opens no transaction for a SELECT: each read sees the latest
    commit.
    """

    def __init__(self, settings: Settings, engine: Engine):
        self.engine = engine
        self.environment = environment_tokens(settings)
        database = engine.url.database or ""
        on_file = engine.dialect.name == "sqlite" and database not in ("", ":memory:")
        self._sqlite = SqliteReader(database, engine.dialect) if on_file else None

    def principal(self, token: str) -> Principal | None:
        digest = hash_token(token)
        if digest in self.environment:
            return self.environment[digest]
        row = self._first(TOKEN_BY_DIGEST, digest=digest)
        if row is None:
            return None
        token_id, name, scopes, expires_at, projects = row
        if expires_at is not None and has_passed(expires_at):
            return None  # expired: refused like a revoked token
        if isinstance(scopes, str):  # the raw SQLite read returns the JSON text
            scopes, projects = json.loads(scopes), projects and json.loads(projects)
        return Principal(
            name,
            frozenset(Scope(s) for s in scopes),
            token_id=token_id,
            projects=None if projects is None else frozenset(projects),
        )

    def project_exists(self, name: str) -> bool:
        return self._first(PROJECT_BY_NAME, name=name) is not None

    def tokens_exist(self) -> bool:
        """Any usable token: then every non-open route needs one."""
        return bool(self.environment) or self._first(ANY_LIVE_TOKEN) is not None

    def _first(self, statement: Select, **values: Any) -> tuple | None:
        if self._sqlite is not None:
            return self._sqlite.first(statement, **values)
        with self.engine.connect() as connection:
            row = connection.execute(statement, values).first()
        return None if row is None else tuple(row)


def has_passed(moment: datetime | str) -> bool:
    """Whether a stored time is past; the raw SQLite read gives its text (UTC, no offset)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment <= datetime.now(UTC)


class SqliteReader:
    """SQLAlchemy Core statements run on one sqlite3 connection, each compiled once."""

    def __init__(self, path: str, dialect: Dialect):
        self.path = path
        self.dialect = dialect
        self.compiled: dict[Select, Compiled] = {}
        self.connection: sqlite3.Connection | None = None
        self.lock = threading.Lock()

    def first(self, statement: Select, **values: Any) -> tuple | None:
        compiled = self.compiled.get(statement)
        if compiled is None:
            compiled = self.compiled[statement] = statement.compile(dialect=self.dialect)
        defaults = compiled.params
        names = getattr(compiled, "positiontup", None) or ()  # qmark: in the SQL's order
        parameters = tuple(values.get(n, defaults[n]) for n in names)
        with self.lock:
            if self.connection is None:
                self.connection = sqlite3.connect(
                    self.path, check_same_thread=False, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000
                )
            return self.connection.execute(str(compiled), parameters).fetchone()
