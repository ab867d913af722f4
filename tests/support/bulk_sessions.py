"""A large store for the run benchmarks: 10 CSV uploads of 1,000 sessions × 100 rows ×
6 features (10,000 sessions, 1,000,000 rows), each a pack (bench_load, bench_first_progress)."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

UPLOADS, SESSIONS_PER_UPLOAD, ROWS, FEATURES = 10, 1000, 100, 6


def upload_csv(upload: int) -> bytes:
    rng = np.random.default_rng(upload)
    sessions = np.repeat(np.arange(SESSIONS_PER_UPLOAD), ROWS)
    columns = {
        "sessionId": pa.array([f"u{upload}-{i:04d}" for i in range(SESSIONS_PER_UPLOAD)]).take(
            sessions
        ),
        "activity": pa.array(["walk", "run", "sit", "wave"]).take(sessions % 4),
    }
    values = rng.normal(size=(len(sessions), FEATURES)).round(5)
    columns.update({f"f{j}": values[:, j] for j in range(FEATURES)})
    out = io.BytesIO()
    pacsv.write_csv(pa.table(columns), out)
    return out.getvalue()


def upload_sessions(api: httpx.Client) -> None:
    """UPLOADS uploads of SESSIONS_PER_UPLOAD sessions: 10,000 sessions, 1,000,000 rows."""
    for upload in range(UPLOADS):
        response = api.post(
            "/v1/sessions", content=upload_csv(upload), headers={"Content-Type": "text/csv"}
        )
        assert response.status_code == 201, response.text[:300]
