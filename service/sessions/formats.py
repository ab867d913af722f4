"""The upload formats: one entry each, read by content type, file extension or ?format=.

A new format is one entry here plus its parser (a module of this package); the ?format= enum
of the OpenAPI document, the content types and the file extensions all come from this table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from service.http import JSON
from service.sessions.csv_format import parse_csv
from service.sessions.edge_impulse import (
    parse_edge_impulse_cbor,
    parse_edge_impulse_file,
    parse_json_or_edge_impulse,
)
from service.sessions.sensor_logger import parse_sensor_logger

Parser = Callable[..., list]
CSV, CBOR, ZIP = "text/csv", "application/cbor", "application/zip"


@dataclass(frozen=True)
class UploadFormat:
    name: str  # what ?format= calls it
    # Its content type first, then the ones clients send for it (a spreadsheet's CSV says
    # application/vnd.ms-excel, Windows' zip application/x-zip-compressed).
    media_types: tuple[str, ...]
    extensions: tuple[str, ...]  # of a multipart file's name, before any .gz
    parser: Parser  # when ?format= names it
    # When its content type or extension says it, if not `parser`: a .cbor file is Edge
    # Impulse's CBOR, while ?format=edge-impulse reads its JSON form too.
    detected_parser: Parser | None = None
    # Decoding costs several times the body's size: it gets the (smaller) JSON limit.
    decoded_in_memory: bool = False

    @property
    def media_type(self) -> str:
        return self.media_types[0]

    @property
    def parser_when_detected(self) -> Parser:
        return self.detected_parser or self.parser


UPLOAD_FORMATS = (
    UploadFormat(
        "csv",
        (CSV, "application/csv", "text/plain", "application/vnd.ms-excel"),
        (".csv",),
        parse_csv,
    ),
    # Ours, or Edge Impulse's JSON (told by its keys).
    UploadFormat("json", (JSON,), (".json",), parse_json_or_edge_impulse, decoded_in_memory=True),
    UploadFormat(
        "edge-impulse",
        (CBOR,),
        (".cbor",),
        parse_edge_impulse_file,
        detected_parser=parse_edge_impulse_cbor,
        decoded_in_memory=True,
    ),
    UploadFormat(
        "sensor-logger",
        (ZIP, "application/x-zip-compressed", "application/x-zip"),
        (".zip",),
        parse_sensor_logger,
    ),
)
BY_NAME = {upload.name: upload for upload in UPLOAD_FORMATS}
BY_MEDIA_TYPE = {kind: upload for upload in UPLOAD_FORMATS for kind in upload.media_types}
UPLOAD_FORMAT_NAMES = tuple(BY_NAME)  # ?format='s choices, in the table's order
