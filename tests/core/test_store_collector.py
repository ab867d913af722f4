"""The collector removes what nothing references once it is older than the grace period:
never a referenced pack, never a young one (an upload writes its pack before committing)."""

from __future__ import annotations

import os
import time

import pyarrow as pa
import pytest
from sqlalchemy import insert

from core.blobs import add_pack, collect_garbage, locate
from core.db import make_engine, make_session_factory, unit_of_work
from core.models import MotionSession
from core.storage import PackStore

HOUR_S = 3600.0


@pytest.fixture
def factory(settings):
    engine = make_engine(settings.resolved_database_url)
    yield make_session_factory(engine)
    engine.dispose()


def age(path: str, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def samples(value: float) -> pa.Table:
    return pa.table({"x": [value, value + 1]})


def test_old_orphans_go_young_and_referenced_packs_stay(settings, factory):
    store = PackStore(settings.blobs_dir)
    committed = store.write_pack({"a" * 64: samples(1)})
    with unit_of_work(factory) as db:
        add_pack(db, committed)
        row = {"id": "s", "activity": "walk", "features": ["x"], "has_timestamp": False}
        db.execute(insert(MotionSession), [{**row, "row_count": 2, "blob_sha256": "a" * 64}])
    crashed = store.write_pack({"b" * 64: samples(2)})  # written, never committed
    in_progress = store.write_pack({"c" * 64: samples(3)})  # its upload has yet to commit
    leftover = os.path.join(store.packs_dir, ".0123.arrow.77.1.2.tmp")  # a write cut short
    open(leftover, "wb").close()
    for path in (store.pack_path(committed.pack_id), store.pack_path(crashed.pack_id), leftover):
        age(path, 2 * HOUR_S)

    collected = collect_garbage(factory, store, grace_period_s=HOUR_S)

    assert collected.files == 2
    assert not os.path.exists(store.pack_path(crashed.pack_id)) and not os.path.exists(leftover)
    assert os.path.exists(store.pack_path(in_progress.pack_id))
    with unit_of_work(factory) as db:
        where = locate(db, ["a" * 64])
    assert store.read_table(where["a" * 64]).equals(samples(1))


def test_a_pack_whose_sessions_are_all_gone_is_collected_with_its_rows(settings, factory):
    store = PackStore(settings.blobs_dir)
    pack = store.write_pack({"d" * 64: samples(4), "e" * 64: samples(5)})
    with unit_of_work(factory) as db:
        add_pack(db, pack)  # recorded, but no session references its blobs (any more)
    collected = collect_garbage(factory, store, grace_period_s=HOUR_S)
    assert (collected.blobs, collected.packs) == (2, 1)
    assert not os.path.exists(store.pack_path(pack.pack_id))
