"""What the first download of model.onnx / model.mlpackage.zip costs (the conversion from the
run's .mlmodel, done once per run and format, then cached), and the files' sizes.

A BasicMotions-shaped model: 6 features, prediction_window 100, 4 classes. Also the cold cost
of importing the converters in an API process that has not converted anything yet.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.support.networks import random_net, wrap
from workers.exports.coreml.export import export_model
from workers.exports.mlprogram import export_mlpackage_zip
from workers.exports.onnx import export_onnx

FEATURES = ["accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ"]
CLASSES = ["Badminton", "Running", "Standing", "Walking"]
REPEATS = 5


def _median_s(convert, path: Path) -> float:
    timings = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        convert(path)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def bench_export_conversions(tmp_path):
    net = random_net(num_features=len(FEATURES), num_classes=len(CLASSES), prediction_window=100)
    mlmodel = export_model(
        wrap(net, classes=CLASSES, features=FEATURES), tmp_path / "model.mlmodel"
    )
    conversions = {
        "onnx": (lambda p: export_onnx(mlmodel, p), tmp_path / "model.onnx"),
        "mlpackage float32": (
            lambda p: export_mlpackage_zip(mlmodel, p),
            tmp_path / "model.mlpackage.zip",
        ),
        "mlpackage float16": (
            lambda p: export_mlpackage_zip(mlmodel, p, precision="float16"),
            tmp_path / "model-float16.mlpackage.zip",
        ),
    }
    print(f"\n.mlmodel: {mlmodel.stat().st_size / 1e6:.2f} MB")
    for name, (convert, path) in conversions.items():
        seconds = _median_s(convert, path)
        size_mb = path.stat().st_size / 1e6
        print(f"{name}: conversion {seconds * 1000:.0f} ms (median of {REPEATS}), {size_mb:.2f} MB")

    code = "import workers.exports.onnx, workers.exports.mlprogram"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    print(f"cold import of both converters (a fresh process): {time.perf_counter() - start:.1f} s")
