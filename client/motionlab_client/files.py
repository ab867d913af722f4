"""What an upload sends: files (by extension), gzip, data frames, and folders whose
sub-folders name the activity (Create ML's layout: `data/walking/*.csv` → `walking`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from motionlab_client.errors import InputError

CONTENT_TYPES = {
    ".csv": "text/csv",
    ".json": "application/json",
    ".cbor": "application/cbor",
    ".zip": "application/zip",
}
INVALID_ID_CHARACTER = re.compile(r"[^A-Za-z0-9._-]")
MAX_ID_LENGTH = 128


@dataclass
class UploadRequest:
    """One POST /v1/sessions: a body or a file, and the query parameters it needs."""

    params: dict[str, Any]
    source: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # (field, (file name, bytes, content type)): a file keeps its name, which the server
    # reads (Edge Impulse's `label.id.json`, Sensor Logger's zip named after its recording).
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None


def content_type(path: Path) -> tuple[str, bool]:
    """(media type, gzipped) of a file, from its name (`walk.csv.gz` → text/csv, gzip)."""
    name = path.name.lower()
    gzipped = name.endswith(".gz")
    suffix = Path(name.removesuffix(".gz")).suffix
    if suffix not in CONTENT_TYPES:
        raise InputError(
            "Unknown file type",
            f"{path}: unknown file type {suffix or '(none)'!r}; motionlab takes "
            f"{', '.join(CONTENT_TYPES)} files, optionally .gz",
        )
    return CONTENT_TYPES[suffix], gzipped


def file_request(path: Path, params: dict[str, Any]) -> UploadRequest:
    kind, _ = content_type(path)  # the server gunzips a .gz file itself
    # A file of one session without an id column is named after the file (the server uses
    # ?session_id= only when the file itself names no session).
    params = {"session_id": session_id_of(Path(path.name)), **params}
    files = [("files", (path.name, read_local(path), kind))]
    return UploadRequest(params, str(path), files=files)


def read_local(path: Path) -> bytes:
    """The bytes of a local file; InputError (a MotionlabError) when it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError("File not found", f"{path}: no such file") from None
    except OSError as error:
        raise InputError("File not readable", f"{path}: {error.strerror or error}") from None


def frame_request(frame: Any, params: dict[str, Any]) -> UploadRequest:
    """A pandas (or polars) data frame in the stacked CSV layout."""
    text = frame.to_csv(index=False) if hasattr(frame, "to_csv") else frame.write_csv()
    headers = {"Content-Type": "text/csv"}
    return UploadRequest(params, "data frame", body=text.encode(), headers=headers)


def session_id_of(relative: Path) -> str:
    """A session id from a path: its folders and its file name without its type (and .gz)
    joined by '-', characters that ids cannot hold replaced by '_' (`walking/ana 01.csv.gz`
    → `walking-ana_01`, `idle.01.json` → `idle.01`)."""
    parts = [*relative.parts[:-1], Path(relative.name.removesuffix(".gz")).stem]
    text = INVALID_ID_CHARACTER.sub("_", "-".join(parts)).lstrip(".")
    return text[-MAX_ID_LENGTH:] or "session"


def folder_requests(
    folder: Path, params: dict[str, Any], subject_from: str | None = None
) -> list[UploadRequest]:
    """One request per file under `folder`: a file in a sub-folder gets that sub-folder's
    name as its activity (unless `params` names one), its relative path as its session id,
    and, with `subject_from` (a regular expression searched in the relative path, its group
    `subject` or else its first group), its subject."""
    try:
        pattern = re.compile(subject_from) if subject_from else None
    except re.error as error:
        raise InputError("Invalid pattern", f"--subject-from {subject_from!r}: {error}") from None
    requests = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        if relative.parts[0].startswith(".") or not _known(path):
            continue  # .DS_Store, notes, hidden folders
        file_params = {**params, "session_id": session_id_of(relative)}
        if len(relative.parts) > 1:
            file_params.setdefault("activity", relative.parts[0])
        if pattern is not None:
            subject = _subject(pattern, relative.as_posix())
            if subject is None:
                raise InputError(
                    "Pattern does not match",
                    f"{relative}: --subject-from {subject_from!r} does not match this path",
                )
            file_params["subject"] = subject
        request = file_request(path, {})
        request.params = file_params
        requests.append(request)
    if not requests:
        raise InputError(
            "No files to upload", f"{folder}: no .csv / .json / .cbor / .zip files (optionally .gz)"
        )
    return requests


def _known(path: Path) -> bool:
    try:
        content_type(path)
    except InputError:
        return False
    return True


def _subject(pattern: re.Pattern, relative: str) -> str | None:
    match = pattern.search(relative)
    if match is None:
        return None
    if "subject" in pattern.groupindex:
        return match.group("subject")
    return match.group(1) if pattern.groups else match.group(0)
