"""The bundled BasicMotions sessions as tables, CSV bodies and the library's data."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tests.support.paths import BASICMOTIONS_CSV
from workers.engines.torch import MotionData

FEATURES = ["accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ"]


def basicmotions_rows(session_ids: list[str]) -> pa.Table:
    """Rows of the bundled BasicMotions sessions, in file order."""
    table = pacsv.read_csv(BASICMOTIONS_CSV)
    mask = np.isin(table.column("sessionId").to_numpy(zero_copy_only=False), session_ids)
    return table.filter(pa.array(mask))


def csv_bytes(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pacsv.write_csv(table, out)
    return out.getvalue()


def library_columns(table: pa.Table, session_column: str | None = "sessionId") -> dict:
    """The table as the library's columns mapping (one session when there is no id column)."""
    ids = (
        table.column(session_column).to_numpy(zero_copy_only=False)
        if session_column
        else np.zeros(table.num_rows, dtype=np.int64)
    )
    return {"session_id": ids, **{f: table.column(f).to_numpy() for f in FEATURES}}


def split(table: pa.Table, name: str) -> MotionData:
    """The sessions of one split (`train`, `test`) as the library's data."""
    part = table.filter(pc.equal(table["split"], name))
    return MotionData.from_columns(
        part, session_id="sessionId", target="activity", features=FEATURES
    )
