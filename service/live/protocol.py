"""The live classification protocol: client frames in, server messages out, close codes.

Client → server, JSON text frames:
  {"rows": [[v1, v2, …], …]}       rows as arrays in the model's feature order ("ready" says it)
  {"rows": [{"accelX": v, …}, …]}  or as objects keyed by feature name (other keys ignored)
  {"end": true}                    (alone or after "rows") predict the last partial window,
                                   then start a new stream: window 0, zero LSTM state
Server → client, JSON text frames: "ready" once, "prediction" per completed window, "end"
after {"end": true}, and "error" just before a close for a bad frame.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from service.sessions.json_format import only_numbers
from workers.live import WindowPrediction

SUBPROTOCOL = "motionlab.live.v1"
CLOSE_REASON_BYTES = 123  # RFC 6455: the close reason fits in a control frame


class CloseCode(IntEnum):
    """Why the server closed a live stream (CLOSE_CODES: docs/live.md's table)."""

    NORMAL = 1000
    UNSUPPORTED_DATA = 1003
    POLICY = 1008
    TOO_BIG = 1009
    INTERNAL = 1011
    MALFORMED = 4400
    IDLE = 4408
    INVALID_ROWS = 4422


CLOSE_CODES = {
    CloseCode.NORMAL: "the client closed the stream (the server answers its close)",
    CloseCode.UNSUPPORTED_DATA: "a binary frame: frames are JSON text",
    CloseCode.POLICY: "refused before the handshake by a server that cannot answer it with "
    "HTTP (uvicorn answers 401 / 403 / 404 / 409 problem+json instead)",
    CloseCode.TOO_BIG: "a frame over MOTIONLAB_LIVE_MAX_FRAME_BYTES or "
    "MOTIONLAB_LIVE_MAX_ROWS_PER_FRAME: send fewer rows per frame (past twice the byte limit, "
    "closed before it is read whole)",
    CloseCode.INTERNAL: "a fault of the server (logged)",
    CloseCode.MALFORMED: 'not JSON (or nested too deeply), or not {"rows": [...], "end": true}',
    CloseCode.IDLE: "no frame for MOTIONLAB_LIVE_IDLE_TIMEOUT_S",
    CloseCode.INVALID_ROWS: "rows that do not fit the model: a feature missing, another "
    "number of values, text, true / false, NaN or infinity",
}
OPENAPI_DESCRIPTION = f"""

**Live classification** (WebSockets are not part of OpenAPI): `WS /v1/runs/{{run_id}}/live`
and `WS /v1/models/{{name}}/{{ref}}/live`, scope `train` (a browser offers the subprotocols
`{SUBPROTOCOL}` and `bearer.<token>`). Send JSON text frames `{{"rows": [[...], ...]}}` (values
in the model's feature order) or `{{"rows": [{{"feature": value, ...}}]}}`, and `{{"end": true}}`
to predict the last partial window and start over. The server answers `ready` (features,
classes, prediction_window, limits), one `prediction` per completed window (`window`,
`first_row`, `num_rows`, `class`, `probability_vector`) and `end`; the LSTM state is carried
between windows and reset every 20, exactly as POST …/predict?output_frequency=per_window.
Close codes: {"; ".join(f"{int(code)} {meaning}" for code, meaning in CLOSE_CODES.items())}.
See docs/live.md.
"""


class FrameError(Exception):
    """A frame the stream cannot take: close with `code`, `detail` says what to fix."""

    def __init__(self, code: CloseCode, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Frame:
    rows: np.ndarray  # (n, F) float64, feature order; n may be 0
    end: bool


@dataclass(frozen=True)
class FrameLimits:
    max_bytes: int
    max_rows: int


def parse_frame(text: str, features: list[str], limits: FrameLimits) -> Frame:
    """A client text frame → its rows and end flag; FrameError naming the problem."""
    if len(text) > limits.max_bytes and len(text.encode()) > limits.max_bytes:
        raise FrameError(
            CloseCode.TOO_BIG,
            f"a frame of {len(text.encode())} bytes is over the {limits.max_bytes}-byte limit: "
            "send fewer rows per frame",
        )
    try:
        document = json.loads(text)
    except ValueError as error:
        raise FrameError(
            CloseCode.MALFORMED, f'a frame is not JSON ({error}); send {{"rows": [[…], …]}}'
        ) from None
    except RecursionError:  # the same frame over HTTP is a 400
        raise FrameError(
            CloseCode.MALFORMED,
            'a frame is nested too deeply to parse; send {"rows": [[…], …]}',
        ) from None
    if not isinstance(document, dict) or not set(document) <= {"rows", "end"} or not document:
        raise FrameError(
            CloseCode.MALFORMED,
            'a frame is a JSON object with "rows" (a list of rows) and/or "end": true; '
            f"got {_brief(document)}",
        )
    end = document.get("end", False)
    if not isinstance(end, bool):
        raise FrameError(CloseCode.MALFORMED, f'"end" must be true or false; got {_brief(end)}')
    rows = document.get("rows", [])
    if not isinstance(rows, list):
        raise FrameError(CloseCode.MALFORMED, f'"rows" must be a list; got {_brief(rows)}')
    if len(rows) > limits.max_rows:
        raise FrameError(
            CloseCode.TOO_BIG,
            f"a frame of {len(rows)} rows is over the {limits.max_rows}-row limit: "
            "send fewer rows per frame",
        )
    return Frame(rows=_row_array(rows, features), end=end)


def _row_array(rows: list, features: list[str]) -> np.ndarray:
    if not rows:
        return np.empty((0, len(features)))
    if all(isinstance(row, dict) for row in rows):
        missing = sorted(set(features).difference(*rows))
        if missing:
            raise FrameError(
                CloseCode.INVALID_ROWS,
                f"rows lack the model's feature(s) {missing}; every row needs {features}",
            )
        rows = [[row[name] for name in features] for row in rows]
    array = None  # true / false or text would pass as numbers: NumPy takes them
    if only_numbers(rows):
        try:
            array = np.array(rows, dtype=np.float64)  # (n, F)
        except (TypeError, ValueError, OverflowError):
            array = None
    if array is None or array.shape != (len(rows), len(features)):
        raise FrameError(
            CloseCode.INVALID_ROWS,
            f"each row must be {len(features)} numbers in the order {features} "
            "(or an object with those keys)",
        )
    if not np.isfinite(array).all():
        row = int(np.flatnonzero(~np.isfinite(array).all(axis=1))[0])
        raise FrameError(
            CloseCode.INVALID_ROWS, f"row {row} of the frame holds a NaN or infinite value"
        )
    return array


def _brief(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "…"


def close_reason(detail: str) -> str:
    """`detail` cut to fit a close frame (the "error" message before it has it whole)."""
    encoded = detail.encode()
    if len(encoded) <= CLOSE_REASON_BYTES:
        return detail
    return encoded[: CLOSE_REASON_BYTES - 3].decode(errors="ignore") + "…"


def prediction_message(prediction: WindowPrediction, classes: list[Any]) -> dict[str, Any]:
    probabilities = prediction.probabilities
    return {
        "type": "prediction",
        "window": prediction.window,
        "first_row": prediction.first_row,
        "num_rows": prediction.num_rows,
        "class": classes[int(probabilities.argmax())],
        "probability_vector": probabilities.tolist(),
    }
