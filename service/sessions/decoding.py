"""Upload bodies → the bytes of each file, and its parser: content types, multipart, gzip,
size limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import PurePath

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.settings import Settings
from service.content_encoding import body_is_gzip, inflated, read_samples_body
from service.errors import BadRequest, InvalidInput, MalformedBody, UnsupportedMediaType
from service.http import JSON, Limit, allow_body, samples_limit
from service.offload import decoded_apart
from service.sessions.csv_format import parse_csv
from service.sessions.edge_impulse import (
    parse_edge_impulse_cbor,
    parse_edge_impulse_file,
    parse_json_or_edge_impulse,
)
from service.sessions.parsing import Payload, UploadOptions
from service.sessions.sensor_logger import parse_sensor_logger

Parser = Callable[..., list]
CBOR, ZIP = "application/cbor", "application/zip"
PARSERS: dict[str, Parser] = {
    "text/csv": parse_csv,
    JSON: parse_json_or_edge_impulse,  # ours, or Edge Impulse's JSON (told by its keys)
    CBOR: parse_edge_impulse_cbor,
    ZIP: parse_sensor_logger,
}
EXTENSIONS = {".csv": "text/csv", ".json": JSON, ".cbor": CBOR, ".zip": ZIP}
# ?format= names a parser whatever the content type says.
FORMATS: dict[str, Parser] = {
    "csv": parse_csv,
    "json": parse_json_or_edge_impulse,
    "edge-impulse": parse_edge_impulse_file,
    "sensor-logger": parse_sensor_logger,
}
# Bodies that cost several times their size to decode get the JSON limit.
DECODED_IN_MEMORY = {parse_json_or_edge_impulse, parse_edge_impulse_cbor, parse_edge_impulse_file}
MAX_FILENAME_LENGTH = 255
CSV_ALIASES = {"application/csv", "text/plain", "application/vnd.ms-excel"}
ZIP_ALIASES = {"application/x-zip-compressed", "application/x-zip"}


def media_type(content_type: str | None) -> str:
    kind = (content_type or "").split(";")[0].strip().lower()
    return "text/csv" if kind in CSV_ALIASES else ZIP if kind in ZIP_ALIASES else kind


def parser_for(kind: str, filename: str | None = None, upload_format: str | None = None) -> Parser:
    if upload_format is not None:
        return FORMATS[upload_format]
    name = (filename or "").lower().removesuffix(".gz")
    for extension, by_name in EXTENSIONS.items():
        if name.endswith(extension):
            kind = by_name
    try:
        return PARSERS[kind]
    except KeyError:
        raise UnsupportedMediaType(
            f"unsupported content type {kind or 'none'!r}"
            + (f" for file {filename!r}" if filename else "")
            + ": send text/csv, application/json (ours or Edge Impulse's), application/cbor "
            "(Edge Impulse), application/zip (Sensor Logger), multipart/form-data with .csv / "
            ".json / .cbor / .zip files, optionally gzip-compressed; or name the format with "
            "?format="
        ) from None


def parser_limit(settings: Settings, parser: Parser) -> Limit:
    return samples_limit(settings, JSON if parser in DECODED_IN_MEMORY else "text/csv")


async def read_parts(
    request: Request, settings: Settings, upload_format: str | None = None
) -> list[tuple[bytes | bytearray, Parser, str | None]]:
    """(bytes, parser, source name) for each file of the request."""
    kind = media_type(request.headers.get("content-type"))
    if kind != "multipart/form-data":
        parser = parser_for(kind, upload_format=upload_format)  # 415 before reading a byte
        return [(await read_samples_body(request, parser_limit(settings, parser)), parser, None)]
    if body_is_gzip(request):  # Starlette parses the form from the raw body
        raise UnsupportedMediaType(
            "a multipart body cannot be gzip-compressed as a whole: compress its files instead "
            "(name them .gz), or send one file as the body with Content-Encoding: gzip"
        )
    total_limit = samples_limit(settings, "text/csv")
    allow_body(request, total_limit)
    try:
        form = await request.form(max_files=10_000, max_fields=100, max_part_size=total_limit.bytes)
    except StarletteHTTPException as exc:  # Starlette's words for a bad multipart body
        if exc.status_code != 400:
            raise
        raise MalformedBody(
            f"malformed multipart body: {exc.detail} Send multipart/form-data with a boundary "
            "and .csv / .json files"
        ) from None
    files = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
    if not files:
        raise BadRequest("the multipart body has no files: attach .csv or .json files")
    parts, total = [], 0
    for file in files:
        if len(file.filename or "") > MAX_FILENAME_LENGTH:
            raise InvalidInput(
                f"a file name is {len(file.filename or '')} characters long; the limit is "
                f"{MAX_FILENAME_LENGTH}: rename the file"
            )
        parser = parser_for(media_type(file.content_type), file.filename, upload_format)
        data = await inflated(
            await file.read(),
            gzipped=(file.filename or "").endswith(".gz"),
            limit=parser_limit(settings, parser),
            what=f"file {file.filename!r}",
        )
        total += len(data)
        if total > total_limit.bytes:
            raise total_limit.exceeded("the files")
        parts.append((data, parser, file.filename))
    return parts


def parse_parts(parts: list, options: UploadOptions) -> list:
    """Parse each part, releasing its bytes as soon as the parser has read them."""
    parsed = []
    while parts:
        data, parser, filename = parts.pop(0)
        payload = Payload(data)
        del data
        file_options = options
        if filename and options.session_id is None:
            # A file of one session: its name is its id by default, however many files come
            # (as the CLI's folder import names them); an id column or field still wins.
            stem = PurePath(filename.removesuffix(".gz")).stem
            file_options = replace(options, session_id=stem)
        if parser in DECODED_IN_MEMORY:  # JSON, CBOR: decoded apart when large
            parsed.extend(decoded_apart(len(payload), parser, payload, file_options, filename))
        else:
            parsed.extend(parser(payload, file_options, filename))
    return parsed
