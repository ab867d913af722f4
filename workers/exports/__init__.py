"""The files a trained run can be downloaded as, besides its engine's own model.

- formats.py: the one table of formats (name, file, media type, converter, precisions);
- coreml/: the spec-1 `.mlmodel` every run leaves (interface.py: its names and layers;
  export.py: written from a torch network; network.py: its weights read back; stream.py: its
  network stepped in NumPy for live streams);
- onnx.py, mlprogram.py: converters from a run's `.mlmodel`, whichever engine wrote it.

The NumPy oracles that prove these files compute what the trained network does live with the
tests (tests/support/oracles/).
"""

from workers.exports import quiet_coremltools

# Every import of coremltools is in this package, after this line: its harmless import-time
# warnings (macOS-only runtime, untested torch version) never reach a terminal.
quiet_coremltools.install()
