"""The S3 backend of the object store (`MOTIONLAB_STORE_URL=s3://bucket/prefix`).

Through obstore (Python bindings of the Rust `object_store` crate used by Arrow, DataFusion
and Polars), chosen because it is one wheel with no Python dependencies (boto3 brings
botocore's ~20 MB of service models, s3fs brings aiobotocore and aiohttp), does ranged GETs
(a worker reads one session's bytes of a pack, never the pack), uploads large files in
parts, retries with backoff, and is actively maintained. It reads the standard AWS_*
variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION /
AWS_DEFAULT_REGION, AWS_ENDPOINT_URL); MOTIONLAB_S3_ENDPOINT_URL overrides the endpoint (MinIO,
Ceph, a test server). Its runtime does not survive fork(): motionlab's processes are spawned
and open their store lazily, once per process (object_store.open_object_store).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import obstore
from obstore.store import S3Store

from core.atomic import atomic_path
from core.object_store import ObjectStore, StoredObject

DELETE_BATCH = 1000  # the most keys one S3 DeleteObjects request takes


class S3ObjectStore(ObjectStore):
    def __init__(self, url: str, *, endpoint_url: str = "", scratch_dir: Path):
        parts = urlsplit(url)
        self.url = url
        self.scratch_dir = scratch_dir  # where a write is staged before its upload
        endpoint = (
            endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT")
        )
        options: dict = {}
        if endpoint:
            options["endpoint"] = endpoint
            if endpoint.startswith("http://"):  # a local server (MinIO, a test's): no TLS
                options["client_options"] = {"allow_http": True}
        self.store = S3Store(parts.netloc, prefix=parts.path.strip("/") or None, **options)

    def local_path(self, key: str) -> None:
        return None

    def put_bytes(self, key: str, data: bytes) -> None:
        obstore.put(self.store, key, data)

    def put_file(self, key: str, source: str | os.PathLike) -> None:
        with open(source, "rb") as file:  # in parts above obstore's chunk size (5 MiB)
            obstore.put(self.store, key, file)

    @contextlib.contextmanager
    def writer(self, key: str) -> Iterator[str]:
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        staged = self.scratch_dir / f".upload-{secrets.token_hex(8)}"
        try:
            yield str(staged)
            self.put_file(key, staged)
        finally:
            staged.unlink(missing_ok=True)

    def get_bytes(self, key: str) -> bytes:
        return bytes(obstore.get(self.store, key).bytes())

    def get_range(self, key: str, start: int, end: int):
        return obstore.get_range(self.store, key, start=start, end=end)

    def download(self, key: str, target: str | os.PathLike) -> None:
        result = obstore.get(self.store, key)
        with atomic_path(target) as tmp, open(tmp, "wb") as out:
            for chunk in result.stream():
                out.write(chunk)

    def list_objects(self, prefix: str) -> Iterator[StoredObject]:
        for batch in obstore.list(self.store, prefix=prefix.strip("/") or None):
            for meta in batch:
                yield StoredObject(meta["path"], meta["size"], meta["last_modified"].timestamp())

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            obstore.delete(self.store, keys[start : start + DELETE_BATCH])
