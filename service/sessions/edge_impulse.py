"""Edge Impulse data acquisition format (JSON or CBOR) → one session.

The format (Edge Impulse's public "Data acquisition format" reference):

    {"protected": {"ver": "v1", "alg": "HS256" | "none", "iat": <epoch s, optional>},
     "signature": "<64 hex characters: HMAC-SHA256>",
     "payload": {"device_name": <optional>, "device_type": "...", "interval_ms": 10,
                 "sensors": [{"name": "accX", "units": "m/s2"}, ...],
                 "values": [[-9.81, 0.03, 1.21], ...]}}   # one row per interval

A signer encodes the document with the signature set to 64 zeros, takes the HMAC-SHA256 of
those bytes with the project's HMAC key, and writes the hex digest in place of the zeros.
So the check here puts the zeros back into the received bytes (same length, so the encoding
is otherwise untouched) and recomputes the HMAC.

A recording maps to one session: the sensors are the feature columns (their names; their
`units` are the channels' units, core/channel_names.py), the sample rate is 1000 /
interval_ms, the session id is ?session_id= or the file's name, the activity ?activity= or,
as Edge Impulse's uploader does, the file name's first dot-separated part (`idle.01.json` →
`idle`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import PurePath
from typing import Any

import numpy as np
import pyarrow as pa

from service.errors import InvalidInput, MalformedBody
from service.sessions.json_format import load_json, parse_sessions_document, sample_matrix
from service.sessions.parsing import (
    ParsedSession,
    Payload,
    UploadOptions,
    check_feature_names,
    check_values,
    finish_session,
    samples_table,
)

SIGNATURE_HEX_LENGTH = 64  # HMAC-SHA256 in hex
ZERO_SIGNATURE = "0" * SIGNATURE_HEX_LENGTH
ALGORITHMS = ("HS256", "none")
CBOR_SIGNATURE_KEY = b"\x69signature"  # CBOR text string of 9 bytes: "signature"
CBOR_TEXT_64 = b"\x78\x40"  # CBOR text string header, 64 bytes follow


def is_edge_impulse(document: Any) -> bool:
    """A JSON document in Edge Impulse's format (not ours: that has "sessions")."""
    return isinstance(document, dict) and "payload" in document and "protected" in document


def parse_edge_impulse_cbor(payload: Payload, options: UploadOptions, source: str | None = None):
    import cbor2

    data = payload.take()
    try:
        document = cbor2.loads(bytes(data))
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise MalformedBody(
            f"malformed CBOR: {exc}; send an Edge Impulse data acquisition file"
        ) from None
    return parse_edge_impulse(data, document, options, source, cbor=True)


def parse_edge_impulse(
    data: bytes | bytearray,
    document: Any,
    options: UploadOptions,
    source: str | None = None,
    *,
    cbor: bool = False,
) -> list[ParsedSession]:
    """One session from a decoded Edge Impulse document and its raw bytes (for the HMAC)."""
    if not is_edge_impulse(document):
        raise InvalidInput(
            'an Edge Impulse file is an object with "protected", "signature" and "payload"; '
            "see Edge Impulse's data acquisition format"
        )
    _check_signature(data, document, options.edge_impulse_hmac_key, cbor=cbor)
    body = document["payload"]
    if not isinstance(body, dict):
        raise InvalidInput('"payload" must be an object with interval_ms, sensors and values')
    sensors, values = body.get("sensors"), body.get("values")
    if not isinstance(sensors, list) or not sensors:
        raise InvalidInput('"payload.sensors" must be a non-empty list of {"name", "units"}')
    names: list[str] = [s["name"] for s in sensors if isinstance(s, dict) and "name" in s]
    if len(names) != len(sensors) or not all(isinstance(name, str) for name in names):
        raise InvalidInput('each of "payload.sensors" needs a "name" (a string)')
    check_feature_names(names, options.max_features, "the Edge Impulse sensors")
    interval_ms = body.get("interval_ms")
    if isinstance(interval_ms, bool) or not isinstance(interval_ms, int | float):
        interval_ms = 0  # not a number: refused below
    if interval_ms <= 0:
        raise InvalidInput('"payload.interval_ms" must be a positive number (ms between samples)')
    if not isinstance(values, list) or not values:
        raise InvalidInput('"payload.values" must be a non-empty list (one row per interval)')
    session_id = options.session_id or _stem(source)
    if session_id is None:
        raise InvalidInput(
            "an Edge Impulse file carries no session id: give ?session_id= (or upload it as a "
            "file, whose name becomes the id)"
        )
    where = f"session {session_id!r}"
    if len(names) == 1 and not isinstance(values[0], list):  # one axis: a flat list
        matrix = sample_matrix([values], len(values), where, names * len(values)).T
    else:
        matrix = sample_matrix(values, len(names), where, names)
    columns = [pa.array(matrix[:, j]) for j in range(matrix.shape[1])]
    check_values([session_id], np.zeros(1, dtype=np.int64), names, columns)
    return [
        finish_session(
            session_id=session_id,
            activity=options.activity or _label_from_name(source),
            subject=options.subject,
            split=options.split,
            sample_rate_hz=options.sample_rate_hz or 1000.0 / interval_ms,
            features=names,
            samples=samples_table(names, columns),
            source=_source(body, source),
            declared=options.channels,
            units={s["name"]: s["units"] for s in sensors if isinstance(s.get("units"), str)},
        )
    ]


def _check_signature(
    data: bytes | bytearray, document: dict, key: str | None, *, cbor: bool
) -> None:
    protected = document.get("protected")
    algorithm = protected.get("alg") if isinstance(protected, dict) else None
    if algorithm not in ALGORITHMS:
        raise InvalidInput(
            f'"protected.alg" is {algorithm!r}; Edge Impulse files are signed with HS256 or '
            'marked "none"'
        )
    if key is None:
        return  # no key configured: signatures are not checked (see docs/uploads.md)
    if algorithm == "none":
        raise InvalidInput(
            "this server checks Edge Impulse signatures (MOTIONLAB_EDGE_IMPULSE_HMAC_KEY) and "
            'the file is unsigned ("alg": "none"): sign it with the HMAC key'
        )
    signature = document.get("signature")
    if not isinstance(signature, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", signature):
        raise InvalidInput('"signature" must be 64 hex characters (HMAC-SHA256)')
    unsigned = _with_zero_signature(bytes(data), signature, cbor=cbor)
    expected = hmac.new(key.encode(), unsigned, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise InvalidInput(
            "the Edge Impulse signature does not match the data: the file was changed after "
            "signing, or signed with another HMAC key than this server's; nothing was stored"
        )


def _with_zero_signature(data: bytes, signature: str, *, cbor: bool) -> bytes:
    """The bytes as they were signed: the signature's characters replaced by zeros."""
    if cbor:
        marker = CBOR_SIGNATURE_KEY + CBOR_TEXT_64 + signature.encode()
        at = data.find(marker)
        start = at + len(CBOR_SIGNATURE_KEY) + len(CBOR_TEXT_64)
    else:
        found = re.search(rb'"signature"\s*:\s*"' + signature.encode() + b'"', data)
        at = found.start() if found else -1
        start = found.end() - 1 - SIGNATURE_HEX_LENGTH if found else -1
    if at < 0:
        raise InvalidInput('"signature" is not where an Edge Impulse signer writes it')
    return data[:start] + ZERO_SIGNATURE.encode() + data[start + SIGNATURE_HEX_LENGTH :]


def _stem(source: str | None) -> str | None:
    return PurePath(source.removesuffix(".gz")).stem if source else None


def _label_from_name(source: str | None) -> str | None:
    """Edge Impulse's uploader convention: `label.anything.json` is labelled `label`."""
    stem = _stem(source)
    return stem.split(".")[0] if stem and "." in stem else None


def _source(body: dict, filename: str | None) -> str:
    device = " ".join(
        str(body[key])[:64] for key in ("device_type", "device_name") if body.get(key)
    )
    return "edge-impulse" + (f" {device}" if device else "") + (f" {filename}" if filename else "")


def parse_json_or_edge_impulse(payload: Payload, options: UploadOptions, source=None):
    """application/json: our sessions document, or an Edge Impulse file (told by its keys)."""
    data = payload.take()
    document = load_json(data)
    if is_edge_impulse(document):
        return parse_edge_impulse(data, document, options, source)
    del data  # the decoded document is all that is needed now
    return parse_sessions_document(document, options, source)


def parse_edge_impulse_file(payload: Payload, options: UploadOptions, source=None):
    """?format=edge-impulse: JSON (starts with "{") or CBOR, told by the first byte."""
    data = payload.take()
    if bytes(data[:64]).lstrip()[:1] == b"{":
        return parse_edge_impulse(data, load_json(data), options, source)
    return parse_edge_impulse_cbor(Payload(data), options, source)
