"""The object-store interface behaves the same on a shared directory and on S3 (moto)."""

from __future__ import annotations

import os
import time

import pytest

from core.object_store import ObjectStore, open_object_store
from core.settings import Settings
from tests.support.s3 import bucket_keys

pytestmark = pytest.mark.integration


@pytest.fixture
def objects(tmp_path, store_config) -> ObjectStore:
    return open_object_store(Settings(home=tmp_path / "home", **store_config))


def test_objects_read_back_whole_and_by_byte_range(objects, tmp_path):
    objects.put_bytes("runs/r1/metrics.json", b'{"accuracy": 0.9}')
    big = os.urandom(6 * 1024 * 1024 + 17)  # above S3's smallest part: a multipart upload
    (tmp_path / "model.pt").write_bytes(big)
    objects.put_file("runs/r1/model.pt", tmp_path / "model.pt")

    assert objects.get_bytes("runs/r1/metrics.json") == b'{"accuracy": 0.9}'
    assert objects.get_bytes("runs/r1/model.pt") == big
    assert (
        bytes(objects.get_range("runs/r1/model.pt", 5_000_000, 5_300_000))
        == big[5_000_000:5_300_000]
    )
    objects.download("runs/r1/model.pt", tmp_path / "copy" / "model.pt")
    assert (tmp_path / "copy" / "model.pt").read_bytes() == big


def test_listing_gives_each_object_under_a_folder_with_its_size_and_age(objects):
    before = time.time()
    objects.put_bytes("runs/r1/model.mlmodel", b"m" * 10)
    objects.put_bytes("runs/r1/model/saved.bin", b"s" * 3)  # nested, as Turi Create's model/
    objects.put_bytes("runs/r10/model.mlmodel", b"other run")
    objects.put_bytes("blobs/packs/p.arrow", b"pack")

    listed = {stored.key: stored for stored in objects.list_objects("runs/r1")}
    assert set(listed) == {"runs/r1/model.mlmodel", "runs/r1/model/saved.bin"}
    assert listed["runs/r1/model.mlmodel"].size_bytes == 10
    # S3 keeps whole seconds: the age is right to the second.
    assert all(before - 1 <= s.modified_at <= time.time() + 1 for s in listed.values())
    assert list(objects.list_objects("nothing/here")) == []


def test_deleting_objects_and_folders_leaves_the_rest(objects):
    for key in ("runs/r1/a", "runs/r1/b/c", "runs/r2/a", "blobs/packs/p.arrow"):
        objects.put_bytes(key, b"x")
    objects.delete(["blobs/packs/p.arrow", "blobs/packs/never-written.arrow"])
    objects.delete_prefix("runs/r1")
    objects.delete_prefix("runs/never-written")
    remaining = {s.key for prefix in ("runs", "blobs") for s in objects.list_objects(prefix)}
    assert remaining == {"runs/r2/a"}


def test_a_missing_object_reads_as_file_not_found(objects, tmp_path):
    with pytest.raises(FileNotFoundError):
        objects.get_bytes("runs/r1/model.mlmodel")
    with pytest.raises(FileNotFoundError):
        objects.download("runs/r1/model.mlmodel", tmp_path / "model.mlmodel")
    assert not (tmp_path / "model.mlmodel").exists()


def test_a_write_that_fails_stores_nothing_and_leaves_no_temporary_file(objects, tmp_path):
    with pytest.raises(RuntimeError), objects.writer("blobs/packs/p.arrow") as path:
        with open(path, "wb") as out:
            out.write(b"half a pack")
        raise RuntimeError("the upload was cut off")
    with objects.writer("blobs/packs/q.arrow") as path, open(path, "wb") as out:
        out.write(b"a whole pack")

    assert [s.key for s in objects.list_objects("blobs")] == ["blobs/packs/q.arrow"]
    staged = [p for p in (tmp_path / "home").rglob("*") if p.is_file()]
    assert staged == []  # an S3 write is staged under the home, then removed


def test_an_s3_store_keeps_to_its_bucket_prefix(tmp_path, s3_endpoint, s3_url):
    objects = open_object_store(
        Settings(home=tmp_path / "home", store_url=s3_url, s3_endpoint_url=s3_endpoint)
    )
    objects.put_bytes("runs/r1/model.mlmodel", b"m")
    assert bucket_keys(s3_endpoint, s3_url) == {"team/motionlab/runs/r1/model.mlmodel"}


def test_a_store_url_of_another_form_is_refused_with_the_forms_it_takes():
    for url in ("ftp://host/x", "file://relative/path", "s3://", "/var/motionlab"):
        with pytest.raises(ValueError, match=r"file:///absolute/path or s3://bucket/prefix"):
            Settings(store_url=url)
