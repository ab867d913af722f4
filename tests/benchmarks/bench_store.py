"""Reading a run's sessions from each store backend: 10,000 sessions of 100 rows × 6 features
in 10 packs (10 uploads of 1,000), read as a worker loads a run (every session, 6 columns)
and as a prediction on stored data does (one session).

Local (the home, memory-mapped) against S3 (moto's server on loopback: a single-threaded Python
server, so the S3 figures bound the cost of the ranged-read path from above; a real S3 adds
network latency per request and serves large ranges faster). Prints seconds, GET requests and
bytes fetched against the packs' size.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from core.s3_store import S3ObjectStore
from core.settings import Settings
from core.storage import STORE_PACKS, PackStore, pack_store

PACKS, SESSIONS_PER_PACK, ROWS, FEATURES = 10, 1000, 100, 6
NAMES = [f"f{j}" for j in range(FEATURES)]


class CountingS3Store(S3ObjectStore):
    requests = fetched_bytes = 0

    def get_range(self, key, start, end):
        self.requests += 1
        self.fetched_bytes += end - start
        return super().get_range(key, start, end)


def write_packs(store: PackStore) -> tuple[list, int]:
    rng = np.random.default_rng(0)
    places, size = [], 0
    for _ in range(PACKS):
        tables = [
            pa.table({name: rng.normal(size=ROWS) for name in NAMES})
            for _ in range(SESSIONS_PER_PACK)
        ]
        written = store.write_tables(tables)
        places += written.places
        size += written.size_bytes
    return places, size


def timed(store: PackStore, places: list) -> float:
    started = time.perf_counter()
    columns = store.read_columns(places, NAMES)
    assert len(columns[0]) == len(places)
    return time.perf_counter() - started


def bench_store() -> None:
    from moto.server import ThreadedMotoServer

    with tempfile.TemporaryDirectory() as tmp:
        local = pack_store(Settings(home=Path(tmp) / "local"))
        places, size = write_packs(local)
        print(f"\n{len(places)} sessions in {PACKS} packs, {size / 1e6:.1f} MB")
        print(
            f"local (memory-mapped): all {timed(local, places):.3f} s, one session "
            f"{timed(local, places[4321:4322]) * 1000:.2f} ms"
        )

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            import boto3

            host, port = server.get_host_and_port()
            endpoint = f"http://{host}:{port}"
            s3 = boto3.client(
                "s3",
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id="bench",
                aws_secret_access_key="bench",
            )
            s3.create_bucket(Bucket="bench")
            os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
            objects = CountingS3Store(
                "s3://bench/motionlab", endpoint_url=endpoint, scratch_dir=Path(tmp) / "tmp"
            )
            remote = PackStore(objects, prefix=STORE_PACKS)
            places, size = write_packs(remote)
            for label, chosen in (("all", places), ("one session", places[4321:4322])):
                objects.requests = objects.fetched_bytes = 0
                seconds = timed(remote, chosen)
                print(
                    f"s3 (moto) {label}: {seconds:.3f} s, {objects.requests} GETs, "
                    f"{objects.fetched_bytes / 1e6:.2f} MB fetched of {size / 1e6:.1f} MB"
                )
        finally:
            server.stop()
