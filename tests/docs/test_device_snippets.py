"""The Swift and Kotlin snippets (docs/exports.md) use the names the exported files really have.

The snippets cannot be compiled here; what can drift is the interface they name. Every string
literal of a snippet must be an input, an output or a metadata key of a freshly exported file
(the Swift one: the .mlmodel and the .mlpackage; the Kotlin one: the .onnx), and every input
and output must be used, with the state size and the 20-window reset of the export.
"""

from __future__ import annotations

import re

import coremltools as ct
import onnx
import pytest

from tests.support.doc_blocks import only_block
from tests.support.networks import random_net, wrap
from workers.exports.coreml.export import export_model
from workers.exports.mlprogram import export_mlpackage_zip, unzip_package
from workers.exports.onnx import export_onnx
from workers.model.shape import STATE_SIZE, WINDOWS_PER_CHUNK

pytestmark = pytest.mark.unit

FEATURES = ["accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ"]
CLASSES = ["Badminton", "Running", "Standing", "Walking"]
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, tuple[list[str], list[str], set[str]]]:
    """Each format's (input names, output names, metadata keys)."""
    folder = tmp_path_factory.mktemp("exported")
    net = random_net(num_features=len(FEATURES), num_classes=len(CLASSES), prediction_window=10)
    classifier = wrap(net, classes=CLASSES, features=FEATURES)
    mlmodel = export_model(classifier, folder / "GestureClassifier.mlmodel", run_id="r")
    archive = export_mlpackage_zip(mlmodel, folder / "model.zip")
    formats = {}
    for name, path in [("mlmodel", mlmodel), ("mlpackage", unzip_package(archive, folder / "p"))]:
        description = ct.models.MLModel(str(path), skip_model_load=True).get_spec().description
        formats[name] = (
            [i.name for i in description.input],
            [o.name for o in description.output],
            set(description.metadata.userDefined),
        )
    model = onnx.load(export_onnx(mlmodel, folder / "model.onnx"))
    formats["onnx"] = (
        [i.name for i in model.graph.input],
        [o.name for o in model.graph.output],
        {p.key for p in model.metadata_props},
    )
    return formats


@pytest.mark.parametrize(
    ("language", "file_format"),
    [("swift", "mlmodel"), ("swift", "mlpackage"), ("kotlin", "onnx")],
)
def test_snippet_names_only_what_the_exported_file_has_and_uses_all_of_its_interface(
    exported, language, file_format
):
    code = only_block(language)
    literals = set(STRING.findall(code)) - {""}  # "" is a default, not a name
    inputs, outputs, metadata = exported[file_format]
    assert literals - set(inputs) - set(outputs) - metadata == set()
    assert set(inputs) | set(outputs) <= literals
    assert "prediction_window" in literals


@pytest.mark.parametrize("language", ["swift", "kotlin"])
def test_snippet_resets_the_state_every_chunk_of_windows(language):
    code = only_block(language)
    assert f"windows % {WINDOWS_PER_CHUNK} == 0" in code
    if language == "kotlin":  # Core ML's arrays take their shape from the model itself
        assert code.count(f"FloatArray({STATE_SIZE})") == 2
