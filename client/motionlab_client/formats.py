"""The model formats `pull` downloads: name → the file of its download URL.

The server's table is workers/exports/formats.py, which the client may not import (it runs
where only httpx is, and imports none of the server's code); a test checks that they agree.
Its own module so that the CLI lists them without importing httpx.
"""

MODEL_FILES = {"mlmodel": "model.mlmodel", "onnx": "model.onnx", "mlpackage": "model.mlpackage.zip"}
