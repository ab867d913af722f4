"""The blob store on disk against what the database references, for tests' assertions."""

from __future__ import annotations

from pathlib import Path

from core.db import make_engine, make_session_factory, unit_of_work
from core.settings import Settings


def store_files(settings: Settings) -> set[Path]:
    """Every file under the blob store's root, temporary ones included."""
    root = settings.blobs_dir
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def referenced_files(settings: Settings) -> set[Path]:
    """The pack files that a committed session or run references."""
    from core.blobs import referenced_packs
    from core.storage import PackStore

    store = PackStore(settings.blobs_dir)
    engine = make_engine(settings.resolved_database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as db:
            return {Path(store.pack_path(pack_id)) for pack_id in referenced_packs(db)}
    finally:
        engine.dispose()


def unreferenced_files(settings: Settings) -> set[Path]:
    return store_files(settings) - referenced_files(settings)


def collect_now(settings: Settings) -> None:
    """One collection with no grace period: every orphan goes, however young."""
    from core.blobs import collect_garbage
    from core.storage import PackStore

    engine = make_engine(settings.resolved_database_url)
    try:
        collect_garbage(
            make_session_factory(engine), PackStore(settings.blobs_dir), grace_period_s=0
        )
    finally:
        engine.dispose()
