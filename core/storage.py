"""The blob store's files: one pack per upload, written once, atomically.

A pack is a run of Arrow IPC files ("segments", one per column layout in the upload; usually
one) laid end to end, each holding one record batch per session. Sessions keep their content
address (sha256 of their samples) in the database, which says where each lies: (pack, segment,
batch). Packs are never rewritten; a pack goes when no blob in it is referenced any more
(core/blobs.py decides, in the database). Uncompressed: a run reads its data by memory-mapping.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa

PACKS = "packs"
PACK_SUFFIX = ".arrow"


class BlobMissing(LookupError):
    """A blob's samples are not in the store (lost before the store was migrated to packs)."""


class BlobLocation(NamedTuple):  # a tuple: a run builds one per session, 10,000s at once
    pack_id: str
    segment_offset: int
    segment_bytes: int
    batch: int


@dataclass(frozen=True)
class WrittenPack:
    pack_id: str
    size_bytes: int
    locations: dict[str, BlobLocation]  # by sha256


@dataclass(frozen=True)
class WrittenTables:
    pack_id: str
    size_bytes: int
    places: list[BlobLocation]  # in the order of the tables written


@dataclass(frozen=True)
class PackFile:
    """A file in the packs folder: a pack (pack_id) or a temporary file of an unfinished write."""

    path: str
    pack_id: str | None
    modified_at: float  # seconds since the epoch


def new_pack_id() -> str:
    return secrets.token_hex(16)


class PackStore:
    """Packs under `root`/packs, named by a random id that only one upload ever uses."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.packs_dir = os.path.join(self.root, PACKS)

    def pack_path(self, pack_id: str) -> str:
        return os.path.join(self.packs_dir, f"{pack_id}{PACK_SUFFIX}")

    def write_pack(self, tables: dict[str, pa.Table]) -> WrittenPack:
        """Write the tables (by sha256) into one new pack file; where each one lies."""
        pack = self.write_tables(list(tables.values()))
        return WrittenPack(
            pack.pack_id, pack.size_bytes, dict(zip(tables, pack.places, strict=True))
        )

    def write_tables(self, tables: list[pa.Table]) -> WrittenTables:
        """Write the tables into one new pack file, atomically; where each one lies, in order.
        (Their content addresses are not needed: an upload hashes while this writes.)"""
        pack_id = new_pack_id()
        places: list[BlobLocation | None] = [None] * len(tables)
        by_schema: dict[pa.Schema, list[int]] = {}
        for position, table in enumerate(tables):
            by_schema.setdefault(table.schema, []).append(position)
        with atomic_path(self.pack_path(pack_id)) as tmp, pa.OSFile(tmp, "wb") as sink:
            for schema, members in by_schema.items():
                start = sink.tell()
                with pa.ipc.new_file(sink, schema) as writer:
                    for position in members:
                        writer.write_batch(one_batch(tables[position]))
                length = sink.tell() - start
                for batch, position in enumerate(members):
                    places[position] = BlobLocation(pack_id, start, length, batch)
            size = sink.tell()
        return WrittenTables(pack_id, size, [place for place in places if place is not None])

    def read_table(self, location: BlobLocation) -> pa.Table:
        batch, _ = next(self._batches([location], []))
        return pa.Table.from_batches([batch])

    def read_columns(self, locations: list[BlobLocation], names: list[str]) -> list[list[pa.Array]]:
        """For each name, that column of the record batch at each location, in order."""
        columns: list[list[pa.Array]] = [[] for _ in names]
        for batch, indices in self._batches(locations, names):
            for column, index in zip(columns, indices, strict=True):
                column.append(batch.column(index))
        return columns

    def _batches(
        self, locations: list[BlobLocation], names: list[str]
    ) -> Iterator[tuple[pa.RecordBatch, list[int]]]:
        """Each location's record batch, and the positions of `names` in it. Each pack is
        mapped, and each segment opened and its columns looked up, once."""
        maps: dict[str, pa.MemoryMappedFile] = {}
        segments: dict[tuple[str, int], tuple[pa.ipc.RecordBatchFileReader, list[int]]] = {}
        for where in locations:
            key = (where.pack_id, where.segment_offset)
            if key not in segments:
                mapped = maps.get(where.pack_id)
                if mapped is None:
                    mapped = maps[where.pack_id] = pa.memory_map(self.pack_path(where.pack_id))
                # The footer's block offsets count from the start of the pack.
                end = where.segment_offset + where.segment_bytes
                reader = pa.ipc.open_file(mapped, footer_offset=end)
                segments[key] = (reader, [_field_index(reader.schema, name) for name in names])
            reader, indices = segments[key]
            yield reader.get_batch(where.batch), indices

    def delete_pack(self, pack_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.pack_path(pack_id))

    def delete_packs(self, pack_ids: list[str]) -> None:
        for pack_id in pack_ids:
            self.delete_pack(pack_id)

    def pack_files(self) -> Iterator[PackFile]:
        """Every file in the packs folder, with its age; temporary files have no pack id."""
        with contextlib.suppress(FileNotFoundError), os.scandir(self.packs_dir) as entries:
            for entry in entries:
                with contextlib.suppress(FileNotFoundError):  # removed meanwhile
                    modified = entry.stat().st_mtime
                    final = entry.name.endswith(PACK_SUFFIX) and not entry.name.startswith(".")
                    pack_id = entry.name.removesuffix(PACK_SUFFIX) if final else None
                    yield PackFile(entry.path, pack_id, modified)

    def remove_file(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _field_index(schema: pa.Schema, name: str) -> int:
    index = schema.get_field_index(name)
    if index < 0:
        raise KeyError(f"the stored samples have no column {name!r} (they have {schema.names})")
    return index


def one_batch(table: pa.Table) -> pa.RecordBatch:
    """The table as one record batch (zero-copy unless its columns are chunked)."""
    batches = table.to_batches()
    return batches[0] if len(batches) == 1 else table.combine_chunks().to_batches()[0]


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
