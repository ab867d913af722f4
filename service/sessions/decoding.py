"""Request bodies → bytes of one format: content types, gzip, size limits."""

from __future__ import annotations

import zlib
from collections.abc import Callable

from service.errors import MalformedBody, PayloadTooLarge, UnsupportedMediaType
from service.sessions.csv_format import parse_csv
from service.sessions.json_format import parse_json

Parser = Callable[..., list]
PARSERS: dict[str, Parser] = {"text/csv": parse_csv, "application/json": parse_json}
EXTENSIONS = {".csv": "text/csv", ".json": "application/json"}
GZIP_MAGIC = b"\x1f\x8b"
CSV_ALIASES = {"application/csv", "text/plain", "application/vnd.ms-excel"}


def media_type(content_type: str | None) -> str:
    kind = (content_type or "").split(";")[0].strip().lower()
    return "text/csv" if kind in CSV_ALIASES else kind


def parser_for(kind: str, filename: str | None = None) -> Parser:
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
            + ": send text/csv, application/json, multipart/form-data with .csv / .json "
            "files, optionally gzip-compressed"
        ) from None


def gunzip(data: bytes | bytearray, limit: int, what: str = "body") -> bytes:
    """Decompress with a ceiling, so a small bomb cannot expand past the upload limit."""
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = decompressor.decompress(data, limit + 1)
    except zlib.error as exc:
        raise MalformedBody(f"malformed gzip {what}: {exc}; send valid gzip data") from exc
    if len(out) > limit or decompressor.unconsumed_tail:
        raise PayloadTooLarge(f"the decompressed {what} exceeds the limit of {limit} bytes")
    if not decompressor.eof:
        raise MalformedBody(f"malformed gzip {what}: the data is truncated")
    return out


def maybe_gunzip(
    data: bytes | bytearray, *, gzipped: bool, limit: int, what: str = "body"
) -> bytes | bytearray:
    return gunzip(data, limit, what) if gzipped or data[:2] == GZIP_MAGIC else data
