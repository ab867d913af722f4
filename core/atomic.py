"""The one way motionlab writes a file that others read: to a temporary name, then renamed."""

from __future__ import annotations

import contextlib
import itertools
import os
import threading

_counter = itertools.count()


class atomic_path:
    """Yield a temp path beside `target`; on success rename it over `target`, else remove it.

    The one way motionlab writes a file that others read: blobs, checkpoints, models, results.
    `suffix`: for writers that insist on a file extension (coremltools wants .mlmodel).
    """

    def __init__(self, target: str | os.PathLike, *, suffix: str = ".tmp"):
        self.target = os.fspath(target)
        self.suffix = suffix

    def __enter__(self) -> str:
        parent, name = os.path.split(self.target)
        if not os.path.isdir(parent):  # a stat: far cheaper than mkdir on an existing dir
            os.makedirs(parent, exist_ok=True)
        # Unique per process and thread; the writer creates it (one open, not mkstemp's two).
        unique = f"{os.getpid()}.{threading.get_ident()}.{next(_counter)}"
        self.tmp = os.path.join(parent, f".{name}.{unique}{self.suffix}")
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:  # (a crash in between leaves a dot-file, never a partial blob)
            os.replace(self.tmp, self.target)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.tmp)


def write_bytes_atomic(target: str | os.PathLike, data) -> None:
    with atomic_path(target) as tmp, open(tmp, "wb") as out:
        out.write(data)
