"""Domain errors carry their HTTP status; one handler renders them as {"error", "detail"}."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class ServiceError(Exception):
    status_code = 400
    error = "BadRequest"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.headers = headers


class BadRequest(ServiceError):
    status_code, error = 400, "BadRequest"


class MalformedBody(ServiceError):
    status_code, error = 400, "MalformedBody"


class NotFound(ServiceError):
    status_code, error = 404, "NotFound"


class Conflict(ServiceError):
    status_code, error = 409, "Conflict"


class PayloadTooLarge(ServiceError):
    status_code, error = 413, "PayloadTooLarge"


class UnsupportedMediaType(ServiceError):
    status_code, error = 415, "UnsupportedMediaType"


class InvalidInput(ServiceError):
    status_code, error = 422, "InvalidInput"


def error_response(status_code: int, error: str, detail: str, headers=None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(_request: Request, exc: ServiceError) -> JSONResponse:
        return error_response(exc.status_code, exc.error, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for item in exc.errors():
            where = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
            problems.append(f"{where}: {item.get('msg')}" if where else str(item.get("msg")))
        return error_response(422, "InvalidInput", "; ".join(problems))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        name = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
        return error_response(exc.status_code, name, str(exc.detail), exc.headers)
