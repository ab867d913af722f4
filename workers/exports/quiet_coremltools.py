"""coremltools' import-time warnings that say nothing about motionlab's exports, dropped.

Importing coremltools on Linux logs eight "Failed to load _MLModelProxy: No module named
'coremltools.libcoremlpython'" (and its siblings): that library is the macOS Core ML runtime,
which motionlab never calls — it writes specs and checks them in NumPy. It also logs "Torch
version … has not been tested with coremltools": motionlab converts no torch graph with it
(the spec is built from the network's weights, workers/exports/coreml/export.py) and the
exports are checked numerically against the trained network in the tests. On a terminal
they read as failures at every start (the workers' fork server imports coremltools).

Only these messages go; any other warning of coremltools still shows.
"""

from __future__ import annotations

import logging
import re

HARMLESS = re.compile(
    r"^Failed to load _ML\w+Proxy: No module named 'coremltools\.libcoremlpython'$"
    r"|^Torch version \S+ has not been tested with coremltools\."
)


def _keep(record: logging.LogRecord) -> bool:
    return not HARMLESS.search(record.getMessage())


def install() -> None:
    """Before coremltools is imported: its logger is the one created here (idempotent)."""
    logger = logging.getLogger("coremltools")
    if _keep not in logger.filters:
        logger.addFilter(_keep)
