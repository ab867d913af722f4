"""The Swift and Kotlin snippets (docs/exports.md) use the names the exported files really have.

The snippets cannot be compiled here; what can drift is the interface they name. Every string
literal of a snippet must be an input, an output or a metadata key of a freshly exported file
(the Swift one: the .mlmodel and the .mlpackage; the Kotlin one: the .onnx) or one of the
units its metadata says its inputs take (the Swift one's from a run with Core Motion's units,
the default; the Kotlin one's from a run with Android's), and every input and output must be
used, with the state size and the 20-window reset of the export.
"""

from __future__ import annotations

import re
from pathlib import Path

import coremltools as ct
import onnx
import pytest
from coremltools.models.utils import load_spec

from core.channels import CANONICAL_NAMES, SENSORS
from core.params import FeatureChannel, ModelInfo, RunParams
from core.units import canonical_unit
from service.runs.inputs import model_inputs
from tests.support.doc_blocks import only_block
from tests.support.networks import random_net, wrap
from workers.exports.coreml.export import export_model
from workers.exports.coreml.inputs import declare_inputs
from workers.exports.coreml.network import save_spec_atomically
from workers.exports.mlprogram import export_mlpackage_zip, unzip_package
from workers.exports.onnx import export_onnx
from workers.model.shape import STATE_SIZE, WINDOWS_PER_CHUNK

pytestmark = pytest.mark.unit

FEATURES = ["accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ"]
CLASSES = ["Badminton", "Running", "Standing", "Walking"]
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def with_inputs_in(mlmodel: Path, device_units: str, path: Path) -> Path:
    """The model of a run over FEATURES (canonical units) whose inputs take `device_units`."""
    channels = []
    for name in FEATURES:
        sensor, axis = CANONICAL_NAMES[name]
        unit = canonical_unit(SENSORS[sensor].quantity)
        channels.append(FeatureChannel(name=name, sensor=sensor, axis=axis, unit=unit))
    model = ModelInfo(device_units=device_units)
    params = RunParams(
        features=FEATURES,
        channels=channels,
        inputs=model_inputs(model, channels, "activity"),
        model=model,
        random_seed=0,
        prediction_window=10,
    )
    spec = load_spec(str(mlmodel))
    declare_inputs(spec, params)
    return save_spec_atomically(spec, path)


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, tuple[list[str], list[str], dict[str, str]]]:
    """Each format's (input names, output names, metadata)."""
    folder = tmp_path_factory.mktemp("exported")
    net = random_net(num_features=len(FEATURES), num_classes=len(CLASSES), prediction_window=10)
    classifier = wrap(net, classes=CLASSES, features=FEATURES)
    trained = export_model(classifier, folder / "trained.mlmodel", run_id="r")
    mlmodel = with_inputs_in(trained, "core-motion", folder / "GestureClassifier.mlmodel")
    archive = export_mlpackage_zip(mlmodel, folder / "model.zip")
    formats = {}
    for name, path in [("mlmodel", mlmodel), ("mlpackage", unzip_package(archive, folder / "p"))]:
        description = ct.models.MLModel(str(path), skip_model_load=True).get_spec().description
        formats[name] = (
            [i.name for i in description.input],
            [o.name for o in description.output],
            dict(description.metadata.userDefined),
        )
    android = with_inputs_in(trained, "android", folder / "android.mlmodel")
    model = onnx.load(export_onnx(android, folder / "model.onnx"))
    formats["onnx"] = (
        [i.name for i in model.graph.input],
        [o.name for o in model.graph.output],
        {p.key: p.value for p in model.metadata_props},
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
    # "" is a default and "," the separator of the metadata's lists, not names
    literals = set(STRING.findall(code)) - {"", ","}
    inputs, outputs, metadata = exported[file_format]
    units = metadata["units"].split(",")
    assert literals - set(inputs) - set(outputs) - set(metadata) - set(units) == set()
    assert set(inputs) | set(outputs) <= literals
    assert {"prediction_window", "units"} <= literals
    # The units it checks the model for, in input order, are the model's.
    assert f"listOf({', '.join(map(repr, units))})".replace("'", '"') in code or (
        f"[{', '.join(map(repr, units))}]".replace("'", '"') in code
    )


@pytest.mark.parametrize("language", ["swift", "kotlin"])
def test_snippet_resets_the_state_every_chunk_of_windows(language):
    code = only_block(language)
    assert f"windows % {WINDOWS_PER_CHUNK} == 0" in code
    if language == "kotlin":  # Core ML's arrays take their shape from the model itself
        assert code.count(f"FloatArray({STATE_SIZE})") == 2
