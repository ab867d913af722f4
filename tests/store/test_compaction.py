"""Compaction on both store backends and both databases: small packs merge into one, every
session reads back the same, a reader that looked a place up just before the move still finds
it, and uploads, deletes, readers and compactors racing it lose nothing and leave nothing."""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pytest
from sqlalchemy import delete, func, insert, select

from core.blobs import add_pack, collect_garbage, locate, release
from core.compaction import MIN_PACKS, compact_packs
from core.db import API_POOL_SIZE, make_engine, make_session_factory, unit_of_work
from core.migrate import upgrade
from core.models import MotionSession, Pack
from core.settings import Settings
from core.storage import PackStore, pack_store

pytestmark = pytest.mark.both_databases
HOUR_S = 3600.0


@pytest.fixture
def settings(tmp_path, store_config, database_url) -> Settings:
    settings = Settings(home=tmp_path / "home", database_url=database_url, **store_config)
    settings.home.mkdir()
    upgrade(settings.resolved_database_url)
    return settings


@pytest.fixture
def factory(settings):
    # The race's threads stand for an API process and its workers: an API process's pool, not
    # the one connection (+1) of a single worker, which left threads waiting 30 s under load.
    engine = make_engine(settings.resolved_database_url, pool_size=API_POOL_SIZE)
    yield make_session_factory(engine)
    engine.dispose()


def samples(seed: int, rows: int = 50) -> pa.Table:
    values = np.random.default_rng(seed).normal(size=(rows, 2))
    return pa.table({"accelX": values[:, 0], "accelY": values[:, 1]})


def sha_of(table: pa.Table) -> str:
    columns = [table.column(name).to_numpy() for name in table.column_names]
    return hashlib.sha256(np.stack(columns).tobytes()).hexdigest()


def upload(factory, store: PackStore, session_id: str, table: pa.Table) -> str:
    """One session in a pack of its own, as a phone's upload stores it; its blob's sha256."""
    sha = sha_of(table)
    pack = store.write_pack({sha: table})
    with unit_of_work(factory) as db:
        add_pack(db, pack)
        row = {"id": session_id, "activity": "walk", "features": ["accelX", "accelY"]}
        db.execute(
            insert(MotionSession),
            [{**row, "has_timestamp": False, "row_count": table.num_rows, "blob_sha256": sha}],
        )
    return sha


def delete_session(factory, store: PackStore, session_id: str) -> None:
    with unit_of_work(factory) as db:
        sha = db.scalar(select(MotionSession.blob_sha256).where(MotionSession.id == session_id))
        db.execute(delete(MotionSession).where(MotionSession.id == session_id))
        release(db, store=store, hashes=[sha])


def read_back(factory, store: PackStore, shas: list[str]) -> list[pa.Table]:
    with unit_of_work(factory) as db:
        where = locate(db, shas)
    return [store.read_table(where[sha]) for sha in shas]


def pack_ids(factory) -> set[str]:
    with unit_of_work(factory) as db:
        return set(db.scalars(select(Pack.id)))


def test_small_packs_merge_into_one_and_the_old_files_go_after_the_grace_period(settings, factory):
    store = pack_store(settings)
    tables = [samples(i) for i in range(20)]
    shas = [upload(factory, store, f"s{i}", t) for i, t in enumerate(tables)]
    before = pack_ids(factory)
    old_keys = {store.pack_key(pack_id) for pack_id in before}

    compacted = compact_packs(factory, store)

    assert (compacted.packs, compacted.blobs, compacted.written) == (20, 20, 1)
    with unit_of_work(factory) as db:
        where = locate(db, shas)
    assert len({place.pack_id for place in where.values()}) == 1
    assert {place.segment_offset for place in where.values()} == {0}  # one schema: one segment
    assert all(a.equals(b) for a, b in zip(read_back(factory, store, shas), tables, strict=True))
    # Retired, not yet gone: a reader may have looked a session up just before.
    assert old_keys <= {f.key for f in store.pack_files()}
    assert collect_garbage(factory, store, grace_period_s=HOUR_S).packs == 0
    assert old_keys <= {f.key for f in store.pack_files()}
    assert collect_garbage(factory, store, grace_period_s=0).packs == 20
    assert {f.key for f in store.pack_files()} == {store.pack_key(where[shas[0]].pack_id)}
    assert pack_ids(factory) == {where[shas[0]].pack_id}
    assert all(a.equals(b) for a, b in zip(read_back(factory, store, shas), tables, strict=True))


def test_a_reader_that_looked_up_before_the_move_reads_the_same_samples(settings, factory):
    store = pack_store(settings)
    tables = [samples(i) for i in range(MIN_PACKS)]
    shas = [upload(factory, store, f"s{i}", t) for i, t in enumerate(tables)]
    with unit_of_work(factory) as db:
        looked_up = locate(db, shas)  # ... then compaction moves every blob
    assert compact_packs(factory, store).blobs == MIN_PACKS
    columns = store.read_columns([looked_up[sha] for sha in shas], ["accelY"])[0]
    assert [c.to_pylist() for c in columns] == [t.column("accelY").to_pylist() for t in tables]


def test_few_small_packs_or_large_ones_are_left_alone(settings, factory):
    store = pack_store(settings)
    for i in range(MIN_PACKS - 1):
        upload(factory, store, f"s{i}", samples(i))
    assert compact_packs(factory, store).written == 0
    assert len(pack_ids(factory)) == MIN_PACKS - 1


class DuringRead(PackStore):
    """A store whose read_batches runs `meanwhile` first: what another request did between
    compaction's lookup and its commit."""

    def __init__(self, store: PackStore, meanwhile: Callable[[], None]):
        super().__init__(store.objects, prefix=store.prefix)
        self.meanwhile = meanwhile

    def read_batches(self, locations):
        self.meanwhile()
        return super().read_batches(locations)


def test_sessions_deleted_while_compaction_copies_them_are_not_moved(settings, factory):
    store = pack_store(settings)
    tables = [samples(i) for i in range(10)]
    shas = [upload(factory, store, f"s{i}", t) for i, t in enumerate(tables)]
    gone = [3, 7]
    racing = DuringRead(store, lambda: [delete_session(factory, store, f"s{i}") for i in gone])

    compacted = compact_packs(factory, racing)

    assert compacted.blobs == 8
    kept = [i for i in range(10) if i not in gone]
    assert all(
        a.equals(tables[i])
        for a, i in zip(read_back(factory, store, [shas[i] for i in kept]), kept, strict=True)
    )
    with unit_of_work(factory) as db:
        assert db.scalar(select(func.count()).select_from(MotionSession)) == 8
    collect_garbage(factory, store, grace_period_s=0)
    assert len(pack_ids(factory)) == 1 and len(list(store.pack_files())) == 1


def test_when_every_session_went_meanwhile_no_new_pack_is_left(settings, factory):
    store = pack_store(settings)
    for i in range(MIN_PACKS):
        upload(factory, store, f"s{i}", samples(i))
    racing = DuringRead(
        store, lambda: [delete_session(factory, store, f"s{i}") for i in range(MIN_PACKS)]
    )
    assert compact_packs(factory, racing).written == 0
    assert pack_ids(factory) == set()
    assert list(store.pack_files()) == []


class Race:
    """One round: readers reading stable sessions without pause, a client uploading other
    sessions and deleting every other one, and two compactors (two API processes) merging."""

    def __init__(self, factory, store: PackStore, stable: dict[str, pa.Table], round_: int):
        self.factory, self.store, self.stable, self.round = factory, store, stable, round_
        self.shas = {sid: sha_of(table) for sid, table in stable.items()}
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.moved: list[int] = []  # blobs the compactors moved meanwhile
        self.kept: dict[str, pa.Table] = {}  # uploaded and not deleted

    def run(self) -> None:
        readers = [threading.Thread(target=self.guarded(self.read, seed)) for seed in (1, 2)]
        compactors = [threading.Thread(target=self.guarded(self.compact)) for _ in range(2)]
        uploader = threading.Thread(target=self.guarded(self.churn))
        for thread in [*readers, *compactors, uploader]:
            thread.start()
        uploader.join()
        self.stop.set()
        for thread in [*readers, *compactors]:
            thread.join()

    def guarded(self, body: Callable[..., None], *args) -> Callable[[], None]:
        def run() -> None:
            try:
                body(*args)
            except BaseException as error:  # the test names it
                self.errors.append(error)

        return run

    def read(self, seed: int) -> None:
        rng = random.Random(seed)
        while not self.stop.is_set():
            ids = rng.sample(list(self.stable), 4)
            got = read_back(self.factory, self.store, [self.shas[sid] for sid in ids])
            assert all(a.equals(self.stable[sid]) for a, sid in zip(got, ids, strict=True))

    def churn(self) -> None:
        for i in range(16):
            sid = f"churn-{self.round}-{i}"
            self.kept[sid] = samples(1000 * (self.round + 1) + i)
            upload(self.factory, self.store, sid, self.kept[sid])
            if i % 2:  # every other one is deleted again
                victim = f"churn-{self.round}-{i - 1}"
                delete_session(self.factory, self.store, victim)
                del self.kept[victim]

    def compact(self) -> None:
        while not self.stop.is_set():
            self.moved.append(compact_packs(self.factory, self.store).blobs)


@pytest.mark.system
def test_uploads_deletes_readers_and_two_compactors_race_and_nothing_is_lost(settings, factory):
    store = pack_store(settings)
    stable = {f"stable-{i}": samples(i) for i in range(12)}
    for sid, table in stable.items():
        upload(factory, store, sid, table)
    final = dict(stable)
    for round_ in range(3):
        race = Race(factory, store, stable, round_)
        race.run()
        assert not race.errors, race.errors[0]
        assert sum(race.moved) > 0
        final.update(race.kept)

    shas = [sha_of(t) for t in final.values()]
    assert all(
        a.equals(b) for a, b in zip(read_back(factory, store, shas), final.values(), strict=True)
    )
    compact_packs(factory, store)
    collect_garbage(factory, store, grace_period_s=0)
    with unit_of_work(factory) as db:
        where = locate(db, shas)
    assert {f.pack_id for f in store.pack_files()} == {p.pack_id for p in where.values()}
    assert pack_ids(factory) == {p.pack_id for p in where.values()}
    assert all(
        a.equals(b) for a, b in zip(read_back(factory, store, shas), final.values(), strict=True)
    )
