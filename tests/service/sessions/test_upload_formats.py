"""The table of upload formats (service/sessions/formats.py) is what uploads accept: each
format by ?format=, by its content types and by its files' extensions, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from service.app import create_app
from service.errors import UnsupportedMediaType
from service.sessions.decoding import detect_format, media_type
from service.sessions.formats import UPLOAD_FORMATS

pytestmark = pytest.mark.unit


def test_the_format_query_offers_exactly_the_tables_formats(tmp_path: Path):
    upload = create_app(Settings(home=tmp_path, workers=0)).openapi()["paths"]["/v1/sessions"]
    (query,) = [p for p in upload["post"]["parameters"] if p["name"] == "format"]
    (choices,) = [s["enum"] for s in query["schema"]["anyOf"] if "enum" in s]
    assert choices == [upload.name for upload in UPLOAD_FORMATS]


@pytest.mark.parametrize("upload", UPLOAD_FORMATS, ids=lambda upload: upload.name)
def test_each_format_is_told_by_its_content_types_extensions_and_name(upload):
    for kind in upload.media_types:
        assert media_type(f"{kind.upper()}; charset=utf-8") == upload.media_type
        assert detect_format(media_type(kind)) == (upload, upload.parser_when_detected)
    for extension in upload.extensions:
        # The file's name wins over a generic content type, gzip or not.
        found = detect_format("application/octet-stream", f"walk{extension}.gz")
        assert found == (upload, upload.parser_when_detected)
    assert detect_format("text/csv", "a.csv", upload.name) == (upload, upload.parser)


def test_a_body_no_format_claims_is_a_415_naming_the_choices():
    with pytest.raises(UnsupportedMediaType, match=r"send text/csv.*or name the format"):
        detect_format("image/png", "photo.png")
