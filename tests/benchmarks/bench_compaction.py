"""Loading a run's data when its sessions came one per upload, before and after compaction.

5,000 sessions of 100 rows × 6 features, stored three times, each in a migrated SQLite home:
as 5 bulk uploads of 1,000 sessions (5 packs); as 5,000 single-session uploads (5,000 packs,
a phone fleet's store); and as those 5,000 uploads compacted (core/compaction.py, passes until
nothing is left). A run over each is loaded as a worker loads it (workers.run_data
.load_run_parts: one query, then each pack read once), the three in turn, ROUNDS times (the
medians: the machine may be shared). Target (issue #31): ≤ 1.3× the bulk load (it was 5.3×).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from sqlalchemy import insert

from core.blobs import add_pack
from core.compaction import compact_packs
from core.db import make_engine, make_session_factory, unit_of_work
from core.migrate import upgrade
from core.models import MotionSession, Run, RunSession
from core.params import RunParams
from core.settings import Settings
from core.storage import PackStore, pack_store
from workers.run_data import load_run_parts

SESSIONS, ROWS, FEATURES, BULK_UPLOADS = 5000, 100, 6, 5
NAMES = [f"f{j}" for j in range(FEATURES)]
BASELINE_RATIO = 5.3
ROUNDS = 5


def sessions() -> dict[str, pa.Table]:
    rng = np.random.default_rng(0)
    return {
        f"{i:064x}": pa.table({name: rng.normal(size=ROWS) for name in NAMES})
        for i in range(SESSIONS)
    }


def store_and_freeze(factory, store: PackStore, tables: dict, *, per_upload: int, run: str):
    """Store the sessions `per_upload` to a pack, then freeze a run over all of them."""
    shas = list(tables)
    with unit_of_work(factory) as db:
        for start in range(0, len(shas), per_upload):
            chunk = shas[start : start + per_upload]
            add_pack(db, store.write_pack({sha: tables[sha] for sha in chunk}))
        db.execute(
            insert(MotionSession),
            [
                {
                    "id": f"{run}-{i}",
                    "activity": "walk",
                    "features": NAMES,
                    "has_timestamp": False,
                    "row_count": ROWS,
                    "blob_sha256": sha,
                }
                for i, sha in enumerate(shas)
            ],
        )
        params = RunParams(features=NAMES, random_seed=1).model_dump(mode="json")
        db.add(Run(id=run, engine="torch", params=params, data_fingerprint="0" * 64))
        db.flush()
        db.execute(
            insert(RunSession),
            [
                {
                    "run_id": run,
                    "position": i,
                    "session_id": f"{run}-{i}",
                    "blob_sha256": sha,
                    "label": "walk",
                    "part": "train",
                }
                for i, sha in enumerate(shas)
            ],
        )


def load_s(factory, store: PackStore, run: str) -> float:
    started = time.perf_counter()
    with unit_of_work(factory) as db:
        parts = load_run_parts(db, store, run, features=NAMES, target="activity")
    assert parts["train"].num_rows == SESSIONS * ROWS
    return time.perf_counter() - started


def bench_compaction() -> None:
    tables = sessions()
    layouts = {"bulk": SESSIONS // BULK_UPLOADS, "single": 1, "compacted": 1}
    with tempfile.TemporaryDirectory() as tmp:
        stores = {}
        for layout, per_upload in layouts.items():
            settings = Settings(home=Path(tmp) / layout)
            settings.home.mkdir()
            upgrade(settings.resolved_database_url)
            engine = make_engine(settings.resolved_database_url)
            factory, store = make_session_factory(engine), pack_store(settings)
            store_and_freeze(factory, store, tables, per_upload=per_upload, run=layout)
            stores[layout] = (engine, factory, store)
        _, factory, store = stores["compacted"]
        started, passes, moved = time.perf_counter(), 0, 0
        while (compacted := compact_packs(factory, store)).written:
            passes, moved = passes + 1, moved + compacted.blobs
        compaction_s = time.perf_counter() - started
        times: dict[str, list[float]] = {layout: [] for layout in layouts}
        for _ in range(ROUNDS):
            for layout, (_, factory, store) in stores.items():
                times[layout].append(load_s(factory, store, layout))
        for engine, _, _ in stores.values():
            engine.dispose()
    bulk, single, compacted_s = (statistics.median(times[layout]) for layout in layouts)
    print(f"\ncompaction: a run over {SESSIONS:,} sessions x {ROWS} rows x {FEATURES} features")
    print(f"  {BULK_UPLOADS} bulk uploads ({BULK_UPLOADS} packs): load {bulk:.3f} s")
    print(
        f"  {SESSIONS:,} single-session uploads: load {single:.3f} s = {single / bulk:.1f}x bulk "
        f"(baseline {BASELINE_RATIO}x)"
    )
    print(
        f"  the same compacted ({moved:,} sessions moved in {passes} pass(es), {compaction_s:.1f} "
        f"s): load {compacted_s:.3f} s = {compacted_s / bulk:.2f}x bulk (target <= 1.3x)"
    )
