"""The model formats a run is downloaded in: one entry each, used by the download routes.

Every run leaves `model.mlmodel` (spec 1, Turi Create's interface) when it finishes; every
other format is converted from it on the first download and kept beside it. A new format is
one entry here plus its converter (a module of this package).

Light on purpose: the API imports this at start, the converters' libraries (coremltools, onnx:
seconds) only when a conversion runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Precision = Literal["float32", "float16"]  # of a format's weights and arithmetic
OCTET_STREAM = "application/octet-stream"
ZIP = "application/zip"


class NotConvertible(ValueError):
    """The run's `.mlmodel` cannot be converted into this format (the message says why)."""


# (the run's .mlmodel, the file to write, the run's model name, precision, metadata) → the file
Converter = Callable[[Path, Path, str, Precision, dict[str, str]], Path]


@dataclass(frozen=True)
class ExportFormat:
    name: str  # what the client's `pull --format` calls it
    file_name: str  # in the run's directory, and the last segment of its download URLs
    media_type: str
    converter: Converter | None = None  # None: the worker writes it when the run finishes
    precisions: tuple[Precision, ...] = ("float32",)  # the first is the default

    @property
    def suffix(self) -> str:
        """`.onnx`, `.mlpackage.zip`: what a download's name ends with."""
        return self.file_name.removeprefix("model")

    def stored_name(self, precision: Precision | None = None) -> str:
        """The file in the run's directory: `model.mlpackage.zip`, `model-float16.mlpackage.zip`."""
        return self.download_name("model", precision)

    def download_name(self, model_name: str, precision: Precision | None = None) -> str:
        """The name a download is saved under: `Gestures.onnx`, `Gestures-float16.mlpackage.zip`."""
        if precision is None or precision == self.precisions[0]:
            return f"{model_name}{self.suffix}"
        if precision not in self.precisions:
            raise ValueError(f"{self.name} has no {precision} variant: {self.precisions}")
        return f"{model_name}-{precision}{self.suffix}"


def _to_onnx(
    mlmodel: Path, path: Path, model_name: str, precision: Precision, metadata: dict[str, str]
) -> Path:
    from workers.exports.onnx import export_onnx

    return export_onnx(mlmodel, path, **metadata)


def _to_mlpackage_zip(
    mlmodel: Path, path: Path, model_name: str, precision: Precision, metadata: dict[str, str]
) -> Path:
    from workers.exports.mlprogram import export_mlpackage_zip

    # The package folder is named after the model: Xcode names the generated class after it.
    return export_mlpackage_zip(
        mlmodel, path, precision=precision, package_name=model_name, **metadata
    )


MLMODEL = ExportFormat("mlmodel", "model.mlmodel", OCTET_STREAM)  # the source of the others
ONNX = ExportFormat("onnx", "model.onnx", OCTET_STREAM, _to_onnx)
# float16 needs iOS 17 (mlprogram.py); float32 runs from iOS 15.
MLPACKAGE = ExportFormat(
    "mlpackage", "model.mlpackage.zip", ZIP, _to_mlpackage_zip, ("float32", "float16")
)
EXPORT_FORMATS = {export.name: export for export in (MLMODEL, ONNX, MLPACKAGE)}
