"""An S3-protocol server for the object-store tests: moto's server mode on a loopback port,
started once per test session; each test gets a bucket of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.s3 import CREDENTIALS, new_bucket


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as patch:
        for name, value in CREDENTIALS.items():
            patch.setenv(name, value)
        for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT", "AWS_PROFILE"):
            patch.delenv(name, raising=False)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@pytest.fixture
def s3_url(s3_endpoint: str) -> str:
    """A fresh bucket, with a prefix (the store must keep to it)."""
    return f"s3://{new_bucket(s3_endpoint)}/team/motionlab"


@pytest.fixture(params=["file", "s3"])
def store_config(request, tmp_path: Path) -> dict[str, str]:
    """The store settings of each backend in turn: a shared directory (file://) and an S3
    bucket (its endpoint given as MOTIONLAB_S3_ENDPOINT_URL would give it)."""
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        return {"store_url": request.getfixturevalue("s3_url"), "s3_endpoint_url": endpoint}
    shared = tmp_path / "shared-volume"
    shared.mkdir()
    return {"store_url": shared.as_uri()}
