"""Where packs and run artifacts live: one small object-store interface, two backends.

Keys are relative, '/'-separated paths: `blobs/packs/<id>.arrow`, `runs/<run id>/<file>`.

- `LocalObjectStore`: a directory. MOTIONLAB_STORE_URL unset means the home itself (today's
  layout, byte for byte); `file:///shared/path` is a shared volume mounted on every host.
  Objects are plain files: readers memory-map them, nothing is copied.
- `S3ObjectStore` (core/s3_store.py): `s3://bucket/prefix` on any S3-compatible server.

Every write is atomic: a reader sees the whole object or none (a rename on a filesystem; a
single PUT, or a completed multipart upload, on S3).
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from core.atomic import atomic_path, write_bytes_atomic

if TYPE_CHECKING:
    from core.settings import Settings

STORE_URL_FORMS = "empty (the home), file:///absolute/path or s3://bucket/prefix"


@dataclass(frozen=True)
class StoredObject:
    key: str
    size_bytes: int
    modified_at: float  # seconds since the epoch


class ObjectStore(ABC):
    """put bytes / a file (atomically), get, ranged get, list with ages, delete."""

    url: str

    @abstractmethod
    def local_path(self, key: str) -> str | None:
        """The object's path on this host's filesystem (local backends), else None."""

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def put_file(self, key: str, source: str | os.PathLike) -> None:
        """Store a local file's content as `key` (large files in parts, never half-visible)."""

    @abstractmethod
    def writer(self, key: str) -> contextlib.AbstractContextManager[str]:
        """A local path to write; stored as `key` when the block succeeds, dropped if not."""

    @abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """The whole object; FileNotFoundError when there is none."""

    @abstractmethod
    def get_range(self, key: str, start: int, end: int):
        """Bytes [start, end) of the object (a bytes-like buffer)."""

    @abstractmethod
    def download(self, key: str, target: str | os.PathLike) -> None:
        """Copy the object to a local file, atomically; FileNotFoundError when there is none."""

    @abstractmethod
    def list_objects(self, prefix: str) -> Iterator[StoredObject]:
        """Every object under the folder `prefix` (temporary files of local writes included)."""

    @abstractmethod
    def delete(self, keys: list[str]) -> None:
        """Delete those objects; missing ones are no error."""

    def delete_prefix(self, prefix: str) -> None:
        """Delete every object under the folder `prefix`."""
        self.delete([stored.key for stored in self.list_objects(prefix)])


class LocalObjectStore(ObjectStore):
    """Objects as files under `root` (a key is a relative path)."""

    def __init__(self, root: str | os.PathLike):
        self.root = os.fspath(root)
        self.url = Path(os.path.abspath(self.root)).as_uri()

    def _path(self, key: str) -> str:
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"not a store key: {key!r}")
        return os.path.join(self.root, key)

    def local_path(self, key: str) -> str:
        return self._path(key)

    def put_bytes(self, key: str, data: bytes) -> None:
        write_bytes_atomic(self._path(key), data)

    def put_file(self, key: str, source: str | os.PathLike) -> None:
        _copy(source, self._path(key))

    def writer(self, key: str) -> contextlib.AbstractContextManager[str]:
        return atomic_path(self._path(key))

    def get_bytes(self, key: str) -> bytes:
        with open(self._path(key), "rb") as source:
            return source.read()

    def get_range(self, key: str, start: int, end: int) -> bytes:
        with open(self._path(key), "rb") as source:
            return os.pread(source.fileno(), end - start, start)

    def download(self, key: str, target: str | os.PathLike) -> None:
        _copy(self._path(key), target)

    def list_objects(self, prefix: str) -> Iterator[StoredObject]:
        top = self._path(prefix.strip("/"))
        for folder, _, names in os.walk(top):
            for name in names:
                path = os.path.join(folder, name)
                with contextlib.suppress(FileNotFoundError):  # removed meanwhile
                    stat = os.stat(path)
                    key = os.path.relpath(path, self.root).replace(os.sep, "/")
                    yield StoredObject(key, stat.st_size, stat.st_mtime)

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._path(key))

    def delete_prefix(self, prefix: str) -> None:
        shutil.rmtree(self._path(prefix.strip("/")), ignore_errors=True)


def _copy(source: str | os.PathLike, target: str | os.PathLike) -> None:
    if os.path.abspath(target) != os.path.abspath(source):  # the same file: nothing to do
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)


def check_store_url(url: str) -> str:
    """MOTIONLAB_STORE_URL, or ValueError saying which forms it takes."""
    parts = urlsplit(url)
    if url == "" or (parts.scheme == "s3" and parts.netloc):
        return url
    if parts.scheme == "file" and parts.netloc in ("", "localhost") and parts.path.startswith("/"):
        return url
    raise ValueError(f"MOTIONLAB_STORE_URL must be {STORE_URL_FORMS}; got {url!r}")


def open_object_store(settings: Settings) -> ObjectStore:
    """The store of `settings` (one per process: an S3 client keeps its connections)."""
    return _open(str(settings.home), settings.store_url, settings.s3_endpoint_url, os.getpid())


@functools.lru_cache(maxsize=64)
def _open(home: str, url: str, endpoint_url: str, _pid: int) -> ObjectStore:
    parts = urlsplit(url)
    if parts.scheme == "s3":
        from core.s3_store import S3ObjectStore  # its library loads only where it is used

        return S3ObjectStore(url, endpoint_url=endpoint_url, scratch_dir=Path(home) / "tmp")
    return LocalObjectStore(parts.path if parts.scheme == "file" else home)
