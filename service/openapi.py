"""The OpenAPI document, made to tell the truth: what every route answers when it fails (an RFC
9457 problem), the bodies that routes read themselves, `Location` headers, and links from the
operations that create things to those that read them (for clients and stateful fuzzing)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from service.errors import PROBLEM_JSON, Problem
from service.sessions.schemas import EdgeImpulseFile, SessionsUpload

REF_TEMPLATE = "#/components/schemas/{model}"
PROBLEM = {PROBLEM_JSON: {"schema": {"$ref": REF_TEMPLATE.format(model="Problem")}}}
# The failures a route can answer whatever it does; a route declares its own on top.
ERRORS = {
    400: "Malformed body: not valid CSV, JSON, gzip or form data",
    404: "Not found",
    409: "Conflict",
    413: "Body too large: the problem names the limit and its setting",
    415: "Unsupported content type",
    422: "Invalid input: the problem says which field or value, and how to fix it",
    500: "Unexpected failure: logged on the server, no details in the answer",
    503: "Not ready",
    507: "The server's disk is full: nothing was changed",
}
FASTAPI_DEFAULT_DESCRIPTION = "Additional Response"
LOCATION = {
    "Location": {
        "description": "The path of what was created",
        "required": True,
        "schema": {"type": "string"},
    }
}
CREATED = {
    ("/v1/sessions", "post"): "201",
    ("/v1/runs", "post"): "202",
    ("/v1/models/{name}/versions", "post"): "201",
}


def operation(path: str, method: str) -> str:
    """An operationRef: a JSON pointer to the operation."""
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


SESSION_ID = "$response.body#/sessions/0/id"
RUN_ID = "$response.body#/id"
RUN_OPERATIONS = {
    "GetRun": ("/v1/runs/{run_id}", "get"),
    "GetProgress": ("/v1/runs/{run_id}/progress", "get"),
    "GetEvents": ("/v1/runs/{run_id}/events", "get"),
    "CancelRun": ("/v1/runs/{run_id}/cancel", "post"),
    "GetMetrics": ("/v1/runs/{run_id}/metrics", "get"),
    "Predict": ("/v1/runs/{run_id}/predict", "post"),
    "Evaluate": ("/v1/runs/{run_id}/evaluate", "post"),
}
MODEL_OPERATIONS = {
    "GetModel": ("/v1/models/{name}", "get", {"name": "$request.path.name"}),
    "GetVersion": (
        "/v1/models/{name}/{ref}",
        "get",
        {"name": "$request.path.name", "ref": "$response.body#/version"},
    ),
    "DownloadVersion": (
        "/v1/models/{name}/{ref}/model.mlmodel",
        "get",
        {"name": "$request.path.name", "ref": "$response.body#/version"},
    ),
}
# (path, method, status) → link name → (target path, target method, parameters, body)
LINKS: dict[tuple[str, str, str], dict[str, tuple[str, str, dict[str, str], Any]]] = {
    ("/v1/sessions", "post", status): {
        "GetSession": ("/v1/sessions/{session_id}", "get", {"session_id": SESSION_ID}, None),
        "GetSamples": (
            "/v1/sessions/{session_id}/samples",
            "get",
            {"session_id": SESSION_ID},
            None,
        ),
        "DeleteSession": ("/v1/sessions/{session_id}", "delete", {"session_id": SESSION_ID}, None),
    }
    for status in ("200", "201")
}
LINKS[("/v1/sessions", "get", "200")] = {
    "GetSession": (
        "/v1/sessions/{session_id}",
        "get",
        {"session_id": "$response.body#/items/0/id"},
        None,
    )
}
LINKS[("/v1/runs", "post", "202")] = {
    name: (path, method, {"run_id": RUN_ID}, None)
    for name, (path, method) in RUN_OPERATIONS.items()
}
LINKS[("/v1/runs", "get", "200")] = {
    "GetRun": ("/v1/runs/{run_id}", "get", {"run_id": "$response.body#/items/0/id"}, None)
}
LINKS[("/v1/models/{name}/versions", "post", "201")] = {
    **{
        name: (path, method, params, None)
        for name, (path, method, params) in MODEL_OPERATIONS.items()
    },
    "SetAlias": (
        "/v1/models/{name}/aliases/{alias}",
        "put",
        {"name": "$request.path.name"},
        {"version": "$response.body#/version"},
    ),
}
LINKS[("/v1/models/{name}/aliases/{alias}", "put", "200")] = {
    "GetAliasedVersion": (
        "/v1/models/{name}/{ref}",
        "get",
        {"name": "$response.body#/model_name", "ref": "$response.body#/alias"},
        None,
    ),
    "DeleteAlias": (
        "/v1/models/{name}/aliases/{alias}",
        "delete",
        {"name": "$response.body#/model_name", "alias": "$response.body#/alias"},
        None,
    ),
}
LINKS[("/v1/models", "get", "200")] = {
    "GetModel": ("/v1/models/{name}", "get", {"name": "$response.body#/0/name"}, None)
}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = complete(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    _, extra = models_json_schema(
        [(Problem, "validation"), (SessionsUpload, "validation"), (EdgeImpulseFile, "validation")],
        ref_template=REF_TEMPLATE,
    )
    schemas.update(extra["$defs"])
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            _complete_operation(path, method, op)
    return document


def _complete_operation(path: str, method: str, op: dict[str, Any]) -> None:
    responses = op.setdefault("responses", {})
    has_body = "requestBody" in op
    codes = {int(code) for code in responses if code[0] in "45"} | {500}
    if op.get("parameters") or has_body:
        codes.add(422)
    if has_body:
        codes |= {400, 413}
    if method != "get":
        codes.add(507)
    for code in sorted(codes):
        response = responses.setdefault(str(code), {})
        if response.get("description") in (None, "", FASTAPI_DEFAULT_DESCRIPTION):
            response["description"] = ERRORS.get(code, "Error")
        response["content"] = PROBLEM
    created = CREATED.get((path, method))
    if created:
        responses[created].setdefault("headers", {}).update(LOCATION)
    for (source, source_method, status), links in LINKS.items():
        if (source, source_method) == (path, method) and status in responses:
            responses[status]["links"] = {
                name: _link(target, target_method, parameters, body)
                for name, (target, target_method, parameters, body) in links.items()
            }


def _link(path: str, method: str, parameters: dict[str, str], body: Any) -> dict[str, Any]:
    link: dict[str, Any] = {"operationRef": operation(path, method), "parameters": parameters}
    if body is not None:
        link["requestBody"] = body
    return link
