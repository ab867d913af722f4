"""Upload bodies → the bytes of each file, and its parser: content types, multipart, gzip,
size limits."""

from __future__ import annotations

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
from service.sessions.formats import (
    BY_MEDIA_TYPE,
    BY_NAME,
    CSV,
    UPLOAD_FORMATS,
    Parser,
    UploadFormat,
)
from service.sessions.parsing import Payload, UploadOptions

MAX_FILENAME_LENGTH = 255
# JSON, CBOR: decoding holds the GIL for as long as the body is large, so it runs apart.
DECODED_IN_MEMORY = {
    parser
    for upload in UPLOAD_FORMATS
    if upload.decoded_in_memory
    for parser in (upload.parser, upload.parser_when_detected)
}


def media_type(content_type: str | None) -> str:
    """The content type without parameters; what clients send for a format, as its own."""
    kind = (content_type or "").split(";")[0].strip().lower()
    upload = BY_MEDIA_TYPE.get(kind)
    return upload.media_type if upload else kind


def detect_format(
    kind: str, filename: str | None = None, upload_format: str | None = None
) -> tuple[UploadFormat, Parser]:
    """The format of a body or file and its parser: ?format= if given, else the file's
    extension, else its content type; 415 when none says a format."""
    if upload_format is not None:
        named = BY_NAME[upload_format]
        return named, named.parser
    name = (filename or "").lower().removesuffix(".gz")
    found = BY_MEDIA_TYPE.get(kind)
    for upload in UPLOAD_FORMATS:
        if name.endswith(upload.extensions):
            found = upload
    if found is None:
        raise UnsupportedMediaType(
            f"unsupported content type {kind or 'none'!r}"
            + (f" for file {filename!r}" if filename else "")
            + ": send text/csv, application/json (ours or Edge Impulse's), application/cbor "
            "(Edge Impulse), application/zip (Sensor Logger), multipart/form-data with .csv / "
            ".json / .cbor / .zip files, optionally gzip-compressed; or name the format with "
            "?format="
        )
    return found, found.parser_when_detected


def format_limit(settings: Settings, upload: UploadFormat) -> Limit:
    return samples_limit(settings, JSON if upload.decoded_in_memory else CSV)


async def read_parts(
    request: Request, settings: Settings, upload_format: str | None = None
) -> list[tuple[bytes | bytearray, Parser, str | None]]:
    """(bytes, parser, source name) for each file of the request."""
    kind = media_type(request.headers.get("content-type"))
    if kind != "multipart/form-data":
        upload, parser = detect_format(kind, upload_format=upload_format)  # 415 before reading
        return [(await read_samples_body(request, format_limit(settings, upload)), parser, None)]
    if body_is_gzip(request):  # Starlette parses the form from the raw body
        raise UnsupportedMediaType(
            "a multipart body cannot be gzip-compressed as a whole: compress its files instead "
            "(name them .gz), or send one file as the body with Content-Encoding: gzip"
        )
    total_limit = samples_limit(settings, CSV)
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
        upload, parser = detect_format(media_type(file.content_type), file.filename, upload_format)
        data = await inflated(
            await file.read(),
            gzipped=(file.filename or "").endswith(".gz"),
            limit=format_limit(settings, upload),
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
    _check_declared_columns(parsed, options)
    return parsed


def _check_declared_columns(parsed: list, options: UploadOptions) -> None:
    """?channels= applies to every session of the request (each takes the columns it has); a
    column that none of them has is a typo to report, not a declaration to drop."""
    if not options.channels:
        return
    columns = {name for session in parsed for name in session.features}
    missing = [name for name in options.channels if name not in columns]
    if missing:
        raise InvalidInput(
            f"channels names column(s) {missing[:5]} that no session of this upload has (their "
            f"columns: {sorted(columns)[:20]}); fix the names"
        )
