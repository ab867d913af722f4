"""The one door every request passes: browser checks, then the token and its scope.

An ASGI middleware, outermost, so no route (nor a 404, nor a WebSocket) can be reached around
it. In order:

1. Open routes (probes, the API description) pass.
2. A browser request from another site is refused whatever the credentials: a foreign
   `Origin` (or `null`), or `Sec-Fetch-Site: cross-site`. Native apps, curl and CI send
   neither; Swagger UI at /docs is same-origin.
3. With a bearer token (the `Authorization` header; for a WebSocket, which a browser opens
   without headers, a `bearer.<token>` subprotocol also): it must be known and not revoked
   (401), and carry the route's scope (403). Without one: 401 as soon as any token exists.
4. No token exists at all (local development): only loopback clients, and only with a `Host`
   that names this server (DNS rebinding), unless MOTIONLAB_INSECURE is set.
5. The project of the path (/v1/projects/{project}/…; the default one without): it must exist
   and the token must cover it, else the same 404 either way (a token of one project learns
   nothing of another). The routes read it with service.projects.access.request_project.

The request then runs as its principal (service.auth.CURRENT_PRINCIPAL), which the audit log
records.
"""

from __future__ import annotations

import functools
import inspect
import ipaddress
import logging
import re
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.requests import HTTPConnection
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from core.models import DEFAULT_PROJECT
from service.auth import (
    CURRENT_PRINCIPAL,
    LOCAL,
    PROJECT_PREFIX,
    Authenticator,
    Forbidden,
    Principal,
    Unauthorized,
    required_scope,
    serves_every_project,
)
from service.errors import ServiceError
from service.observability import ROUTE_TEMPLATE_STATE
from service.projects.access import PROJECT_STATE, unknown_project

log = logging.getLogger("motionlab.auth")
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
ANONYMOUS = Principal("anonymous", frozenset())
BEARER_SUBPROTOCOL = "bearer."
CREATE_TOKEN_HINT = "`motionlab token create --name NAME --scope SCOPE` makes one"


class RequestGuard:
    def __init__(self, app: ASGIApp, *, api: FastAPI, authenticator: Authenticator):
        self.app = app
        self.api = api  # its routes (to know the path template) and its error handlers
        self.authenticator = authenticator
        self.routes: list[tuple[str, re.Pattern[str], frozenset[str]]] | None = None
        self.templates: frozenset[str] = frozenset()
        settings = api.state.settings
        self.insecure = settings.insecure
        self.configured_hosts = frozenset(
            name.strip().lower() for name in settings.allowed_hosts.split(",") if name.strip()
        )
        bind = settings.host.strip("[]").lower()
        self.local_hosts = LOOPBACK_NAMES | self.configured_hosts
        if bind not in WILDCARD_HOSTS:
            self.local_hosts |= {bind}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)  # lifespan
            return
        connection = HTTPConnection(scope)
        try:
            principal, project = self.admit(connection)
        except ServiceError as refusal:
            log.info(
                "request refused method=%s path=%s status=%s reason=%r",
                method_of(connection),
                connection.url.path,
                refusal.status_code,
                refusal.detail,
            )
            if scope["type"] == "websocket" and not denial_responses(scope):
                # Closed before the handshake completes: the client sees a bare 403.
                await send(
                    {"type": "websocket.close", "code": 1008, "reason": refusal.detail[:120]}
                )
            else:  # a WebSocket handshake too is answered 401 / 403 problem+json
                await (await self.render(connection, refusal))(scope, receive, send)
            return
        scope.setdefault("state", {})[PROJECT_STATE] = project
        reset = CURRENT_PRINCIPAL.set(principal)
        try:
            await self.app(scope, receive, send)
        finally:
            CURRENT_PRINCIPAL.reset(reset)

    def admit(self, request: HTTPConnection) -> tuple[Principal, str]:
        """The principal the request acts as and its project, or a 401 / 403 saying what to
        fix, or the 404 of an unknown project."""
        template = self.remember_template(request.scope)
        principal = self.authenticate(request, template)
        return principal, self.project(request, template, principal)

    def project(self, request: HTTPConnection, template: str, principal: Principal) -> str:
        if principal.projects is not None and serves_every_project(template):
            raise Forbidden(
                f"token {principal.name!r} is limited to projects "
                f"{', '.join(sorted(principal.projects))}; {template} needs a token of every "
                "project (tokens and projects are the whole server's)"
            )
        if not template.startswith(PROJECT_PREFIX + "/"):
            project = DEFAULT_PROJECT
        else:  # /v1/projects/{name}/…: the fourth segment
            project = request.scope["path"].split("/", 4)[3]
        known = project == DEFAULT_PROJECT or self.authenticator.project_exists(project)
        if not (known and principal.covers(project)):
            raise unknown_project(project)
        return project

    def authenticate(self, request: HTTPConnection, template: str) -> Principal:
        method = method_of(request)
        query = request.query_params
        needed = required_scope(method, template, {name: query.getlist(name) for name in query})
        if needed is None:
            return ANONYMOUS
        self.refuse_cross_site(request)
        token = bearer_token(request)
        if token is None:
            if self.authenticator.tokens_exist():
                raise Unauthorized(
                    f"{method} {template} needs a token with scope '{needed}': send "
                    "`Authorization: Bearer <token>` (an admin creates tokens; "
                    f"{CREATE_TOKEN_HINT})",
                    headers={"WWW-Authenticate": 'Bearer realm="motionlab"'},
                )
            if not self.insecure:
                self.refuse_non_local(request)
            return LOCAL
        principal = self.authenticator.principal(token)
        if principal is None:
            raise Unauthorized(
                "the token is unknown or has been revoked: ask an admin for a new one",
                headers={"WWW-Authenticate": 'Bearer realm="motionlab", error="invalid_token"'},
            )
        if not principal.allows(needed):
            raise Forbidden(
                f"token {principal.name!r} has scope {', '.join(sorted(principal.scopes))}; "
                f"{method} {template} needs '{needed}' (or admin)",
                headers={
                    "WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{needed}"'
                },
            )
        if self.configured_hosts:
            self.refuse_foreign_host(request, self.local_hosts)
        return principal

    def route_template(self, scope: Scope) -> str:
        """The path template of the route the request matches; its path when none does."""
        if self.routes is None:  # every route is registered once requests arrive
            self.routes = route_table(self.api)
            self.templates = frozenset(template for template, _, _ in self.routes)
        path: str = scope["path"]
        partial: str | None = None
        for template, regex, methods in self.routes:
            if regex.match(path):
                if scope.get("method", "GET") in methods:
                    return template
                partial = partial or template  # answered 405 by the router
        return partial or path

    def remember_template(self, scope: Scope) -> str:
        """The route template, kept in the request's state for the metrics' route label."""
        template = self.route_template(scope)
        if template in self.templates:
            scope.setdefault("state", {})[ROUTE_TEMPLATE_STATE] = template
        return template

    def refuse_cross_site(self, request: HTTPConnection) -> None:
        if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
            raise Forbidden("cross-site browser requests are refused")
        origin = request.headers.get("origin")
        if origin is None:
            return
        host = request.headers.get("host", "").lower()
        netloc = urlsplit(origin).netloc.lower() if origin != "null" else "null"
        hostname = urlsplit(origin).hostname if origin != "null" else None
        if netloc != host and (hostname or "") not in self.configured_hosts:
            raise Forbidden(
                f"requests from the web page origin {origin!r} are refused: this API answers "
                "only its own pages (add the host to MOTIONLAB_ALLOWED_HOSTS to allow it)"
            )

    def refuse_non_local(self, request: HTTPConnection) -> None:
        """No tokens exist: only this machine may call, by a name of this machine."""
        client = request.client.host if request.client else None
        if client is not None and not is_loopback(client):
            raise Forbidden(
                f"no API tokens exist, so only this machine may call the API; {CREATE_TOKEN_HINT} "
                "(or set MOTIONLAB_TOKENS)"
            )
        self.refuse_foreign_host(request, self.local_hosts)

    @staticmethod
    def refuse_foreign_host(request: HTTPConnection, allowed: frozenset[str]) -> None:
        host = request.headers.get("host", "")
        name = urlsplit(f"//{host}").hostname or ""
        if name not in allowed:
            raise Forbidden(
                f"the Host {host!r} is not a name of this server ({', '.join(sorted(allowed))}); "
                "add it to MOTIONLAB_ALLOWED_HOSTS if it is"
            )

    async def render(self, request: HTTPConnection, error: ServiceError):
        """The refusal as the app's own error handler renders a ServiceError."""
        for kind in type(error).__mro__:
            handler = self.api.exception_handlers.get(kind)
            if handler is not None:
                # A WebSocket handshake is no Request; the handlers read only its path.
                response = handler(request, error)  # type: ignore[arg-type]
                return await response if inspect.isawaitable(response) else response
        body = {"status": error.status_code, "detail": error.detail}  # no handler installed
        return JSONResponse(body, error.status_code, headers=error.headers)


def route_table(app: FastAPI) -> list[tuple[str, re.Pattern[str], frozenset[str]]]:
    """(path template, its regex, methods) of every route, included routers flattened."""
    table = []
    for route in iter_route_contexts(app.routes):
        if route.path is not None:
            regex = getattr(route, "path_regex", None) or compile_path(route.path)[0]
            table.append((route.path, regex, frozenset(route.methods or ())))
    return table


def bearer_token(request: HTTPConnection) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return subprotocol_token(request)
    return credentials.strip()


def subprotocol_token(request: HTTPConnection) -> str | None:
    """A browser's WebSocket cannot send headers: it offers `bearer.<token>` as a subprotocol
    (beside the one the server selects), which the server never echoes back."""
    if request.scope["type"] != "websocket":
        return None
    for offered in request.scope.get("subprotocols", ()):
        if offered.startswith(BEARER_SUBPROTOCOL) and len(offered) > len(BEARER_SUBPROTOCOL):
            return offered[len(BEARER_SUBPROTOCOL) :]
    return None


def denial_responses(scope: Scope) -> bool:
    """The server can refuse a WebSocket handshake with an HTTP answer (uvicorn can)."""
    return "websocket.http.response" in scope.get("extensions", {})


def method_of(connection: HTTPConnection) -> str:
    """The HTTP method; a WebSocket handshake is a GET."""
    return connection.scope.get("method", "GET")


@functools.lru_cache(maxsize=4096)  # parsing an address costs more than the rest of admit()
def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def install_guard(app: FastAPI, authenticator: Authenticator) -> None:
    """Add the guard as the outermost middleware (call after every other middleware)."""
    app.state.authenticator = authenticator
    app.add_middleware(RequestGuard, api=app, authenticator=authenticator)
