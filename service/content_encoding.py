"""Request bodies of samples in their Content-Encoding: gzip inflated in a worker thread, in a
stream, with the limit enforced as the bytes come out.

The event loop only receives the (compressed) body; inflating it, which costs time in
proportion to what comes out, happens in a worker thread. Memory: the compressed body plus
at most `limit` bytes inflated (grown in place, never joined from pieces), so a gzip bomb
costs its size plus the limit before its 413, never more. Time: linear in the body, however
many members it has (`cat a.gz b.gz` is one valid gzip stream of both): each member's input
is fed in slices that start small and double, so what zlib copies at a member's end (the
rest of its slice) is never more than about the member itself, and the members of a body
are limited in number (MAX_GZIP_MEMBERS), each costing a few microseconds however empty.
"""

from __future__ import annotations

import zlib

from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request

from service.errors import MalformedBody, PayloadTooLarge, UnsupportedMediaType
from service.http import Limit, read_body

GZIP_MAGIC = b"\x1f\x8b"
GZIP_CODINGS = frozenset({"gzip", "x-gzip"})
IDENTITY = "identity"
# A 512 MiB BGZF file (blocks of 64 KiB, the most members any common tool writes) has 8,200.
MAX_GZIP_MEMBERS = 16_384
MIN_MEMBER_BYTES = 20  # a header, an empty deflate block and the trailer (CRC, size)
FIRST_SLICE_BYTES = 64  # a member's first slice of input; each next one doubles …
MAX_SLICE_BYTES = 64 * 1024  # … up to this
OUTPUT_STEP_BYTES = 1 << 20  # inflated bytes per step: the limit is checked after each


def body_is_gzip(request: Request) -> bool:
    """Whether the body is gzip by its Content-Encoding; 415 for a coding the API does not
    decode (br, deflate, zstd, several), before a byte of the body is read."""
    coding = request.headers.get("content-encoding", "").strip().lower()
    if coding in ("", IDENTITY):
        return False
    if coding in GZIP_CODINGS:
        return True
    raise UnsupportedMediaType(
        f"Content-Encoding {coding[:40]!r} is not supported: send the body uncompressed or "
        "with Content-Encoding: gzip"
    )


async def read_samples_body(request: Request, limit: Limit) -> bytes | bytearray:
    """The body, gunzipped (in a worker thread) when its Content-Encoding or its first bytes
    say gzip; 413 as soon as it passes `limit`, compressed or inflated."""
    gzipped = body_is_gzip(request)
    return await inflated(await read_body(request, limit), gzipped=gzipped, limit=limit)


async def inflated(
    data: bytes | bytearray, *, gzipped: bool, limit: Limit, what: str = "body"
) -> bytes | bytearray:
    """`data` gunzipped in a worker thread when it is gzip; 413 when over `limit`."""
    if gzipped or data[:2] == GZIP_MAGIC:
        return await run_in_threadpool(gunzip, data, limit, what)
    if len(data) > limit.bytes:
        raise limit.exceeded(what)
    return data


def gunzip(data: bytes | bytearray, limit: Limit, what: str = "body") -> bytearray:
    """Every member of the gzip `data`, inflated; 413 as soon as the output passes `limit`,
    400 for data that is not gzip, truncated, or followed by anything but zero padding."""
    out = bytearray()
    with memoryview(data) as view:
        # The last member's size (mod 2**32) ends the data: an honest file that says it is
        # larger than the limit is refused before inflating a byte (a false one fails later).
        if len(view) >= MIN_MEMBER_BYTES and int.from_bytes(view[-4:], "little") > limit.bytes:
            raise _exceeded(limit, what)
        position, members = 0, 0
        while position < len(view) and view[position] != 0:  # zeros: padding after the end
            members += 1
            if members > MAX_GZIP_MEMBERS:
                raise _too_many_members(what)
            position = _inflate_member(view, position, out, limit, what)
        if members == 0:
            raise MalformedBody(f"malformed gzip {what}: no gzip data; send valid gzip data")
        rest = view[position:].tobytes()
        if rest.count(0) != len(rest):
            raise MalformedBody(f"malformed gzip {what}: data after the end of the gzip stream")
    return out


def _inflate_member(
    view: memoryview, position: int, out: bytearray, limit: Limit, what: str
) -> int:
    """Inflate the member that starts at `position` onto `out`; the position after it."""
    inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    step = FIRST_SLICE_BYTES
    while not inflate.eof:
        if position >= len(view):
            raise MalformedBody(f"malformed gzip {what}: the data is truncated")
        pending: bytes | memoryview = view[position : position + step]
        position += len(pending)
        step = min(2 * step, MAX_SLICE_BYTES)
        while True:
            room = limit.bytes + 1 - len(out)
            try:
                piece = inflate.decompress(pending, min(room, OUTPUT_STEP_BYTES))
            except zlib.error as exc:
                raise MalformedBody(f"malformed gzip {what}: {exc}; send valid gzip data") from exc
            out += piece
            if len(out) > limit.bytes:
                raise _exceeded(limit, what)
            pending = inflate.unconsumed_tail
            # Done with this slice once zlib holds neither input nor (a full step's) output.
            if inflate.eof or (not pending and len(piece) < min(room, OUTPUT_STEP_BYTES)):
                break
    return position - len(inflate.unused_data)


def _exceeded(limit: Limit, what: str) -> PayloadTooLarge:
    return limit.exceeded(f"the decompressed {what}")


def _too_many_members(what: str) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the gzip {what} has more than {MAX_GZIP_MEMBERS} members (gzip files joined one "
        "after another), the most accepted: compress the data as one gzip file",
        limit=MAX_GZIP_MEMBERS,
    )
