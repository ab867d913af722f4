"""Run requests over sessions of thousands of feature columns: each request's time, at 5,000
and 20,000 columns, in process (a LiveServer on SQLite, no worker). Feature resolution must be
linear in the columns: 4x the columns should cost about 4x (quadratic took minutes at 20,000).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import httpx

from core.migrate import upgrade
from core.settings import Settings
from tests.support.servers import LiveServer
from tests.support.wide import CSV, wide_csv, wide_feature_names, wide_run_requests


def bench_wide_runs() -> None:
    print("\ncolumns  no features  all named  one unknown (s)")
    for count in (5_000, 20_000):
        with tempfile.TemporaryDirectory() as home:
            settings = Settings(home=Path(home), max_features=count, workers=0)
            upgrade(settings.resolved_database_url)
            names = wide_feature_names(count)
            with LiveServer(settings) as live, httpx.Client(base_url=live.url, timeout=600) as api:
                assert api.post("/v1/sessions", content=wide_csv(names), headers=CSV).is_success
                api.post("/v1/runs", json={"prediction_window": 2, "features": names[:2]})
                seconds = []
                for request in wide_run_requests(names):
                    started = time.perf_counter()
                    api.post("/v1/runs", json={"prediction_window": 2, **request})
                    seconds.append(time.perf_counter() - started)
        print(f"{count:>7,}  " + "  ".join(f"{s:>10.2f}" for s in seconds))
