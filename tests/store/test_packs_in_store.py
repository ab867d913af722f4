"""Packs in a shared store: written whole, read by the segment ranges a run needs (never the
whole pack for one session), collected on both backends."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from core.blobs import add_pack, collect_garbage
from core.db import make_engine, make_session_factory, unit_of_work
from core.migrate import upgrade
from core.object_store import open_object_store
from core.s3_store import S3ObjectStore
from core.settings import Settings
from core.storage import STORE_PACKS, PackStore, pack_store


def sessions(count: int, rows: int, seed: int = 0) -> list[pa.Table]:
    rng = np.random.default_rng(seed)
    return [
        pa.table({"accelX": rng.normal(size=rows), "accelY": rng.normal(size=rows)})
        for _ in range(count)
    ]


@pytest.fixture
def settings(tmp_path, store_config) -> Settings:
    settings = Settings(home=tmp_path / "home", **store_config)
    settings.home.mkdir()
    upgrade(settings.resolved_database_url)
    return settings


def test_sessions_read_back_from_the_store_in_the_order_asked(settings):
    tables = [*sessions(50, 100), pa.table({"rotX": np.arange(7.0)})]  # two segments
    written = pack_store(settings).write_tables(tables)
    assert not (settings.home / "blobs").exists()  # in the shared store, not the home

    # Another host reads it: a store of its own, the same URL.
    elsewhere = pack_store(settings.model_copy(update={"home": settings.home.parent / "other"}))
    wanted = [31, 2, 50, 17, 2]
    places = [written.places[i] for i in wanted if i != 50]
    columns = elsewhere.read_columns(places, ["accelY"])
    expected = [tables[i].column("accelY").combine_chunks() for i in wanted if i != 50]
    assert [c.to_pylist() for c in columns[0]] == [e.to_pylist() for e in expected]
    assert elsewhere.read_table(written.places[50]).equals(tables[50])


class CountingS3Store(S3ObjectStore):
    """The real S3 store, counting the bytes its ranged reads fetch."""

    fetched_bytes = 0

    def get_range(self, key, start, end):
        data = super().get_range(key, start, end)
        self.fetched_bytes += len(memoryview(data))
        return data


def test_one_session_is_read_from_s3_without_fetching_its_whole_pack(tmp_path, s3_endpoint, s3_url):
    settings = Settings(home=tmp_path / "home", store_url=s3_url, s3_endpoint_url=s3_endpoint)
    tables = sessions(400, 2_000)  # ~13 MB: one upload of 400 sessions, one segment
    written = pack_store(settings).write_tables(tables)

    counting = CountingS3Store(s3_url, endpoint_url=s3_endpoint, scratch_dir=tmp_path / "tmp")
    store = PackStore(counting, prefix=STORE_PACKS)
    assert store.read_table(written.places[123]).equals(tables[123])
    assert counting.fetched_bytes < written.size_bytes / 8

    # A whole run's data comes in a few large reads, not one per session.
    counting.fetched_bytes = 0
    columns = store.read_columns(written.places, ["accelX"])
    assert all(
        c.equals(t.column("accelX").chunk(0)) for c, t in zip(columns[0], tables, strict=True)
    )
    assert counting.fetched_bytes < 1.2 * written.size_bytes


def test_collection_removes_unreferenced_and_orphan_packs_from_the_store(settings):
    store = pack_store(settings)
    factory = make_session_factory(make_engine(settings.resolved_database_url))
    committed = store.write_pack({"a" * 64: sessions(1, 10)[0]})
    orphan = store.write_pack({"b" * 64: sessions(1, 10, seed=1)[0]})  # its upload crashed
    with unit_of_work(factory) as db:
        add_pack(db, committed)
    # The committed pack's blob is referenced by no session: the collector drops it too.
    young = collect_garbage(factory, store, grace_period_s=3600)
    assert young.files == 0
    assert {f.pack_id for f in store.pack_files()} == {orphan.pack_id}  # too young to go

    collect_garbage(factory, store, grace_period_s=0)
    assert list(store.pack_files()) == []
    assert list(open_object_store(settings).list_objects("blobs")) == []
