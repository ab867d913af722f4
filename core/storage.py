"""The blob store's files: one pack per upload, written once, atomically.

A pack is a run of Arrow IPC files ("segments", one per column layout in the upload; usually
one) laid end to end, each holding one record batch per session. Sessions keep their content
address (sha256 of their samples) in the database, which says where each lies: (pack, segment,
batch). Packs are never rewritten: a pack goes when no blob in it is referenced any more
(core/blobs.py decides, in the database), and small packs are merged into a new one
(core/compaction.py), the old ones' files kept for a grace period. Uncompressed: a run reads
its data by memory-mapping (local stores) or by ranged reads of the segments it needs (S3).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import pyarrow as pa

from core.object_store import LocalObjectStore, ObjectStore, open_object_store

if TYPE_CHECKING:
    from core.settings import Settings

PACKS = "packs"
STORE_PACKS = "blobs/packs"  # the packs' prefix in the configured store (the home's blobs/packs)
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
    """An object under the packs prefix: a pack (pack_id) or a temporary file of an unfinished
    local write."""

    key: str
    pack_id: str | None
    modified_at: float  # seconds since the epoch


def new_pack_id() -> str:
    return secrets.token_hex(16)


class PackStore:
    """Packs under `prefix` of an object store (a local directory: a path), named by a random
    id that only one upload ever uses."""

    def __init__(self, objects: ObjectStore | str | os.PathLike, *, prefix: str = PACKS):
        self.objects = objects if isinstance(objects, ObjectStore) else LocalObjectStore(objects)
        self.prefix = prefix.strip("/")

    def pack_key(self, pack_id: str) -> str:
        return f"{self.prefix}/{pack_id}{PACK_SUFFIX}"

    def pack_path(self, pack_id: str) -> str | None:
        """The pack's file on this host (local stores), else None."""
        return self.objects.local_path(self.pack_key(pack_id))

    @property
    def packs_dir(self) -> str | None:
        return self.objects.local_path(self.prefix)

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
        with self.objects.writer(self.pack_key(pack_id)) as tmp, pa.OSFile(tmp, "wb") as sink:
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

    def read_batches(self, locations: list[BlobLocation]) -> Iterator[pa.RecordBatch]:
        """Each location's whole record batch, in order (compaction copies them)."""
        for batch, _ in self._batches(locations, []):
            yield batch

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
        opened, and each segment opened and its columns looked up, once."""
        if locations and self.packs_dir is None:
            yield from self._fetched_batches(locations, names)
            return
        maps: dict[str, pa.MemoryMappedFile] = {}
        segments: dict[tuple[str, int], tuple[pa.ipc.RecordBatchFileReader, list[int]]] = {}
        for where in locations:
            key = (where.pack_id, where.segment_offset)
            if key not in segments:
                mapped = maps.get(where.pack_id)
                if mapped is None:
                    path = self.pack_path(where.pack_id)
                    mapped = maps[where.pack_id] = pa.memory_map(path)
                segments[key] = _open_segment(mapped, where, names)
            reader, indices = segments[key]
            yield reader.get_batch(where.batch), indices

    def _fetched_batches(
        self, locations: list[BlobLocation], names: list[str]
    ) -> Iterator[tuple[pa.RecordBatch, list[int]]]:
        """`_batches` from a remote store: each segment's batches in file order, by ranged
        reads (SegmentFile), so that a few sessions cost a few small GETs and a whole pack a
        few large ones."""
        batches: list[tuple[pa.RecordBatch, list[int]] | None] = [None] * len(locations)
        order = sorted(range(len(locations)), key=lambda i: locations[i])
        segments: dict[tuple[str, int], tuple[pa.ipc.RecordBatchFileReader, list[int]]] = {}
        for i in order:
            where = locations[i]
            key = (where.pack_id, where.segment_offset)
            if key not in segments:
                segments.clear()  # sorted: an earlier segment is done with
                source = SegmentFile(self.objects, self.pack_key(where.pack_id), where)
                segments[key] = _open_segment(pa.PythonFile(source, mode="r"), where, names)
            reader, indices = segments[key]
            batches[i] = (reader.get_batch(where.batch), indices)
        for batch in batches:
            assert batch is not None
            yield batch

    def delete_pack(self, pack_id: str) -> None:
        self.delete_packs([pack_id])

    def delete_packs(self, pack_ids: list[str]) -> None:
        self.objects.delete([self.pack_key(pack_id) for pack_id in pack_ids])

    def pack_files(self) -> Iterator[PackFile]:
        """Every object under the packs prefix, with its age; temporary files of unfinished
        local writes have no pack id."""
        for stored in self.objects.list_objects(self.prefix):
            name = stored.key.rsplit("/", 1)[-1]
            final = name.endswith(PACK_SUFFIX) and not name.startswith(".")
            pack_id = name.removesuffix(PACK_SUFFIX) if final else None
            yield PackFile(stored.key, pack_id, stored.modified_at)

    def remove_file(self, key: str) -> None:
        self.objects.delete([key])


def pack_store(settings: Settings) -> PackStore:
    """The packs of MOTIONLAB_STORE_URL (unset: under the home, as always)."""
    return PackStore(open_object_store(settings), prefix=STORE_PACKS)


def _open_segment(
    source, where: BlobLocation, names: list[str]
) -> tuple[pa.ipc.RecordBatchFileReader, list[int]]:
    # The footer's block offsets count from the start of the pack.
    reader = pa.ipc.open_file(source, footer_offset=where.segment_offset + where.segment_bytes)
    return reader, [_field_index(reader.schema, name) for name in names]


class SegmentFile:
    """A read-only file over one segment of a remote pack, at the pack's offsets, fetched by
    ranged GETs: the segment's tail (the footer) first, then read-ahead from wherever Arrow
    reads, doubling while it reads on (1 MiB, 2 MiB, … 64 MiB)."""

    FIRST_READ_BYTES = 1 << 20
    MAX_READ_BYTES = 64 << 20
    TAIL_BYTES = 64 << 10  # the footer: 24 bytes a batch, and the schema

    def __init__(self, objects: ObjectStore, key: str, where: BlobLocation):
        self.objects, self.key = objects, key
        self.start, self.end = where.segment_offset, where.segment_offset + where.segment_bytes
        self.position = self.start
        self.read_bytes = self.FIRST_READ_BYTES
        self.fetched: list[tuple[int, memoryview]] = []  # (offset, bytes), newest last
        self.closed = False
        self._fetch(max(self.start, self.end - self.TAIL_BYTES), self.end)

    def _fetch(self, start: int, end: int) -> None:
        data = memoryview(self.objects.get_range(self.key, start, end))
        self.fetched = [*self.fetched[-2:], (start, data)]  # Arrow reads near its last read

    def read(self, size: int = -1) -> memoryview:
        end = self.end if size < 0 else min(self.end, self.position + size)
        data = self._covering(self.position, end)
        if data is None:
            self._fetch(self.position, min(self.end, max(end, self.position + self.read_bytes)))
            self.read_bytes = min(self.read_bytes * 2, self.MAX_READ_BYTES)
            data = self._covering(self.position, end)
            assert data is not None
        self.position = end
        return data

    def _covering(self, start: int, end: int) -> memoryview | None:
        for offset, data in reversed(self.fetched):
            if offset <= start and end <= offset + len(data):
                return data[start - offset : end - offset]
        return None

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.position, os.SEEK_END: self.end}[whence]
        self.position = base + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True


def _field_index(schema: pa.Schema, name: str) -> int:
    index = schema.get_field_index(name)
    if index < 0:
        raise KeyError(f"the stored samples have no column {name!r} (they have {schema.names})")
    return index


def one_batch(table: pa.Table) -> pa.RecordBatch:
    """The table as one record batch (zero-copy unless its columns are chunked)."""
    batches = table.to_batches()
    return batches[0] if len(batches) == 1 else table.combine_chunks().to_batches()[0]
