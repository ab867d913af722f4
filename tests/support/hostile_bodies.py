"""Request bodies an adversarial probe sent (issue 26), built small and fast.

Shared by the regression tests (tests/service/test_hostile_bodies.py), the live-server check
(tests/service/test_hostile_server.py) and the memory bench (tests/benchmarks/).
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile
import zlib
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

EMPTY_GZIP_MEMBER = gzip.compress(b"")  # 20 bytes
START_NS = 1_698_501_144_000_000_000
FILL = 0.97  # of a limit: the largest body that is surely under it


def gzip_members(count: int) -> bytes:
    """`count` empty gzip members, one after another: a valid gzip stream of nothing."""
    return EMPTY_GZIP_MEMBER * count


def gzip_bomb(compressed_bytes: int, *, size_field: int = 100) -> bytes:
    """One gzip member of zeros, about `compressed_bytes` long (~1,000 times that inflated),
    whose trailer lies about its size (`size_field`), as a bomb would to pass a size check.

    Made in milliseconds: one deflate block of 64 MiB of zeros, flushed so that it ends on a
    byte and refers to nothing before it, repeated.
    """
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = deflate.compress(bytes(64 << 20)) + deflate.flush(zlib.Z_FULL_FLUSH)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    last = b"\x03\x00"  # the final, empty, fixed-Huffman block
    trailer = (0).to_bytes(4, "little") + size_field.to_bytes(4, "little")  # CRC never checked
    return header + block * max(1, compressed_bytes // len(block)) + last + trailer


def sensor_rows_csv(seed: int, rows: int, features: int = 6) -> bytes:
    """A stacked CSV of plausible sensor rows: ~9 bytes a value, ~2.3:1 under gzip."""
    rng = np.random.default_rng(seed)
    sessions = max(1, rows // 10_000)
    session = np.repeat(np.arange(sessions), -(-rows // sessions))[:rows]
    columns: dict[str, object] = {
        "sessionId": pa.array([f"s{seed}-{i:05d}" for i in range(sessions)]).take(session),
        "activity": pa.array(["walk", "run", "sit", "wave"]).take(session % 4),
    }
    values = rng.normal(size=(rows, features)).round(6)
    columns.update({f"f{j}": values[:, j] for j in range(features)})
    out = io.BytesIO()
    pacsv.write_csv(pa.table(columns), out)
    return out.getvalue()


def sensor_logger_far_apart(seconds_apart: float) -> bytes:
    """A Sensor Logger zip of two accelerometer rows `seconds_apart` seconds apart (178 bytes
    or so): at ?sample_rate_hz=1 the grid between them has seconds_apart + 1 rows."""
    end_ns = START_NS + int(seconds_apart * 1e9)
    csv = f"time,seconds_elapsed,z,y,x\n{START_NS},0,1,2,3\n{end_ns},{seconds_apart},1,2,3\n"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Accelerometer.csv", csv)
    return out.getvalue()


def nested_json(depth: int) -> bytes:
    return b'{"sessions": ' + b"[" * depth + b"]" * depth + b"}"


def multipart(filename: str, data: bytes, boundary: str = "hostile") -> tuple[bytes, str]:
    """A multipart/form-data body of one file, and its Content-Type."""
    disposition = f'form-data; name="files"; filename="{filename}"'
    head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
    head += "Content-Type: application/octet-stream\r\n\r\n"
    body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def float_rows(rows: int, width: int = 6) -> list[list[float]]:
    return np.random.default_rng(2).normal(size=(rows, width)).round(6).tolist()


def json_body(limit: int) -> bytes:
    """Our JSON format: 100 sessions of 6 features, just under `limit` bytes."""

    def document(rows: int) -> bytes:
        per = max(1, rows // 100)
        sessions = [
            {
                "id": f"j{i}",
                "activity": "walk",
                "columns": [f"f{j}" for j in range(6)],
                "samples": float_rows(per),
            }
            for i in range(100)
        ]
        return json.dumps({"sessions": sessions}).encode()

    return document(int(FILL * limit / (len(document(10_000)) / 10_000)))


def edge_impulse_document(rows: int) -> dict:
    return {
        "protected": {"ver": "v1", "alg": "none"},
        "signature": "0" * 64,
        "payload": {
            "device_type": "bench",
            "interval_ms": 10,
            "sensors": [{"name": f"acc{axis}", "units": "m/s2"} for axis in "XYZ"],
            "values": float_rows(rows, 3),
        },
    }


def edge_impulse_body(limit: int, encode: Callable[[dict], bytes]) -> bytes:
    per_row = len(encode(edge_impulse_document(10_000))) / 10_000
    return encode(edge_impulse_document(int(FILL * limit / per_row)))
