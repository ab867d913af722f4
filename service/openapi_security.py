"""The OpenAPI document declares the bearer scheme and each operation's scope.

Derived from service.auth.required_scope, the same table the guard enforces, by wrapping
whatever `app.openapi` builds (so no route decorator repeats it). Swagger UI's Authorize
button then sends the token with every call.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from service.auth import required_scope
from service.scopes import SCOPE_HELP, Scope

SCHEME = "bearerAuth"
METHODS = ("get", "head", "post", "put", "patch", "delete")
PROBLEM_JSON = "application/problem+json"
REFUSALS = {
    "401": "No token, or an unknown or revoked one (`WWW-Authenticate: Bearer`)",
    "403": "The token lacks the scope; or a cross-site browser request; or, with no tokens at "
    "all, a call that is not from this machine",
}


def describe(scope: Scope, path: str, method: str) -> str:
    if method == "post" and path == "/v1/sessions":
        return "Needs scope `upload` (`admin` with `?replace=true`), or `admin`."
    if scope == Scope.ADMIN:
        return "Needs scope `admin`."
    return f"Needs scope `{scope}`, or `admin`."


def add_security(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})[SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from `motionlab token create` (or an admin's POST /v1/tokens). "
        + "; ".join(f"`{s}`: {h}" for s, h in SCOPE_HELP.items())
        + ". Without any token in existence, the API answers this machine only, no token needed.",
    }
    for path, operations in schema.get("paths", {}).items():
        for method in METHODS:
            operation = operations.get(method)
            if operation is None:
                continue
            scope = required_scope(method.upper(), path)
            if scope is None:
                operation["security"] = []
                continue
            operation["security"] = [{SCHEME: []}]
            operation["x-required-scope"] = str(scope)
            note = describe(scope, path, method)
            operation["description"] = f"{operation.get('description', '')}\n\n{note}".strip()
            responses = operation.setdefault("responses", {})
            like = next(
                (r for r in responses.values() if PROBLEM_JSON in r.get("content", {})), None
            )
            for code, description in REFUSALS.items():
                answer: dict[str, Any] = {"description": description}
                if like is not None:
                    answer["content"] = like["content"]  # rendered as the app's other errors
                responses.setdefault(code, answer)
    return schema


def install_security_scheme(app: FastAPI) -> None:
    """Wrap app.openapi (call after anything else that replaces it)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()  # cached by FastAPI until the routes change
        if SCHEME not in schema.get("components", {}).get("securitySchemes", {}):
            add_security(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
