"""The run queue on PostgreSQL (the tests' throwaway cluster) and on SQLite.

1. Claim throughput: CLAIMERS processes, each with its own connection, claim CLAIMED_RUNS
   queued no-op runs (claim_next_run, one commit each) until the queue is empty. Prints runs/s
   and the double claims (a run two claimers both won, or claimed twice): must be 0.
2. Wake-up: a real `motionlab serve` with one embedded worker, idle; RUNS runs one after the
   other, each timed from its POST to (a) its claim (the run's started_at − created_at, both
   the database's clock) and (b) the first `event: progress` of its event stream (SSE).
   PostgreSQL wakes the worker and the stream by NOTIFY, SQLite polls (poll_interval_s 0.1).
   Target: PostgreSQL wake-up (a) median <= 0.1 s.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
import uuid
from collections import Counter
from datetime import datetime

import httpx
from sqlalchemy import func, insert, select

from core.db import make_engine, make_session_factory, unit_of_work
from core.migrate import upgrade
from core.models import Run, RunStatus
from core.runs import claim_next_run
from tests.support.bench_servers import RUN_BODY, RUNS, timed_runs
from tests.support.runs import start_run

CLAIMERS, CLAIMED_RUNS = 8, 1_000


def queue_no_op_runs(database_url: str) -> None:
    engine = make_engine(database_url)
    rows = [
        {
            "id": uuid.uuid4().hex,
            "experiment": "bench",
            "engine": "torch",
            "status": RunStatus.QUEUED,
            "params": {},
            "data_fingerprint": "-",
            "sessions_per_part": {},
            "cancel_requested": False,
            "attempts": 0,
        }
        for _ in range(CLAIMED_RUNS)
    ]
    with engine.begin() as connection:
        connection.execute(insert(Run), rows)
    engine.dispose()


def claim_until_empty(database_url: str, claimer: int, start, results) -> None:
    factory = make_session_factory(make_engine(database_url))
    claimed = []
    start.wait()
    while True:
        with unit_of_work(factory) as db:
            run_id = claim_next_run(db, worker_id=f"bench:{claimer}")
        if run_id is None:
            break
        claimed.append(run_id)
    results.put(claimed)


def claim_throughput(database_url: str) -> tuple[float, int, int]:
    """(runs/s, double claims, runs left unclaimed) of CLAIMERS processes emptying the queue."""
    queue_no_op_runs(database_url)
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    claimers = [
        context.Process(target=claim_until_empty, args=(database_url, n, start, results))
        for n in range(CLAIMERS)
    ]
    for claimer in claimers:
        claimer.start()
    time.sleep(3)  # the claimers' imports and connections, before the clock starts
    started = time.perf_counter()
    start.set()
    claimed = [run_id for _ in claimers for run_id in results.get(timeout=600)]
    elapsed = time.perf_counter() - started
    for claimer in claimers:
        claimer.join()
    engine = make_engine(database_url)
    with engine.connect() as connection:
        attempts = Counter(
            dict(connection.execute(select(Run.id, Run.attempts)).all())  # type: ignore[arg-type]
        )
        queued = connection.scalar(
            select(func.count()).where(Run.status == RunStatus.QUEUED)  # type: ignore[arg-type]
        )
    engine.dispose()
    won = Counter(claimed)
    doubles = sum(n - 1 for n in won.values() if n > 1) + sum(a > 1 for a in attempts.values())
    return len(claimed) / elapsed, doubles, queued


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def time_run(api: httpx.Client) -> tuple[float, float]:
    """(POST → claimed as the database saw it, POST → first progress event), in seconds."""
    started = time.perf_counter()
    run_id = start_run(api, **RUN_BODY)
    first_progress = None
    with api.stream("GET", f"/v1/runs/{run_id}/events") as stream:
        for line in stream.iter_lines():
            if line == "event: progress" and first_progress is None:
                first_progress = time.perf_counter() - started
    run = api.get(f"/v1/runs/{run_id}").json()
    assert run["status"] == "succeeded" and first_progress is not None, run
    claimed = parse_time(run["started_at"]) - parse_time(run["created_at"])
    return claimed.total_seconds(), first_progress


def summary(values: list[float]) -> str:
    p90 = statistics.quantiles(values, n=10)[-1]
    return f"median {statistics.median(values):.3f} s, p90 {p90:.3f} s, max {max(values):.3f} s"


def bench_queue(postgres_cluster, tmp_path) -> None:
    load_before = os.getloadavg()[0]
    sqlite_url = f"sqlite:///{tmp_path / 'claims.db'}"
    upgrade(sqlite_url)
    claim_databases = {
        "PostgreSQL": postgres_cluster.database_url(postgres_cluster.fresh_database()),
        "SQLite": sqlite_url,
    }
    print(f"\nqueue: {CLAIMERS} claimers, {CLAIMED_RUNS} queued no-op runs, {os.cpu_count()} cores")
    for name, url in claim_databases.items():
        runs_per_s, doubles, left = claim_throughput(url)
        print(
            f"  {name}: {runs_per_s:,.0f} runs/s, double claims {doubles} (must be 0), left {left}"
        )
        assert doubles == 0 and left == 0
    print(f"wake-up: POST /v1/runs -> claim, -> first progress event; idle worker, {RUNS} runs")
    serve_databases = {
        "PostgreSQL + NOTIFY": postgres_cluster.database_url(postgres_cluster.fresh_database()),
        "SQLite polling": None,  # under the server's home
    }
    for name, url in serve_databases.items():
        timings = timed_runs(time_run, **({"database_url": url} if url else {}))
        claims, progress = [t[0] for t in timings], [t[1] for t in timings]
        print(f"  {name}: claim {summary(claims)}")
        print(f"  {' ' * len(name)}  first progress {summary(progress)}")
    load_after = os.getloadavg()[0]
    print(f"  target: PostgreSQL claim median <= 0.1 s; load {load_before:.2f} -> {load_after:.2f}")
