"""The table of export formats (workers/exports/formats.py) is what the routes and the client
offer: every format downloads by run and by registered model, and `pull` knows them all."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from motionlab_client.formats import MODEL_FILES
from service.app import create_app
from workers.exports.formats import EXPORT_FORMATS, MLPACKAGE, ONNX

pytestmark = pytest.mark.unit


def test_the_client_pulls_every_format_the_server_has():
    assert {name: export.file_name for name, export in EXPORT_FORMATS.items()} == MODEL_FILES


def test_every_format_downloads_by_run_and_by_registered_model(tmp_path: Path):
    paths = create_app(Settings(home=tmp_path, workers=0)).openapi()["paths"]
    for export in EXPORT_FORMATS.values():
        for prefix in ("/v1/runs/{run_id}/", "/v1/models/{name}/{ref}/"):
            route = paths[prefix + export.file_name]["get"]
            assert export.media_type in route["responses"]["200"]["content"]


def test_a_precision_names_its_own_file_and_download():
    assert MLPACKAGE.stored_name("float32") == "model.mlpackage.zip"
    assert MLPACKAGE.stored_name("float16") == "model-float16.mlpackage.zip"
    assert MLPACKAGE.download_name("Gestures", "float16") == "Gestures-float16.mlpackage.zip"
    assert ONNX.download_name("Gestures") == "Gestures.onnx"
    with pytest.raises(ValueError, match="no float16 variant"):
        ONNX.download_name("Gestures", "float16")
