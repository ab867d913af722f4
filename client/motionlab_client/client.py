"""`Client`: sessions, runs and the model registry of one motionlab server."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from motionlab_client.errors import InputError, MotionlabError
from motionlab_client.files import UploadRequest, file_request, folder_requests, frame_request
from motionlab_client.formats import MODEL_FILES
from motionlab_client.run import Run

DEFAULT_URL = "http://127.0.0.1:8000"
PAGE_SIZE = 1000  # the API's largest page


@dataclass(frozen=True)
class Pulled:
    """What `Client.pull` did: where the model is, and whether it was (re)downloaded."""

    path: Path
    changed: bool
    sha256: str


DEFAULT_PROJECT = "default"
SERVER_WIDE = ("/v1/tokens", "/v1/collect-tokens", "/v1/projects")


class Client:
    """A motionlab server: `Client(url, token, project=…)`, by default `MOTIONLAB_URL` (else
    http://127.0.0.1:8000), `MOTIONLAB_TOKEN` (else none: a local server without tokens) and
    `MOTIONLAB_PROJECT` (else the default project: the URLs from before projects)."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        project: str | None = None,
        timeout_s: float = 120.0,
        transport: httpx.BaseTransport | None = None,
    ):
        self.url = (url or os.environ.get("MOTIONLAB_URL") or DEFAULT_URL).rstrip("/")
        token = token or os.environ.get("MOTIONLAB_TOKEN") or None
        self.project = project or os.environ.get("MOTIONLAB_PROJECT") or DEFAULT_PROJECT
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout_s, transport=transport
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    # -- HTTP ---------------------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The answer, or `MotionlabError` with the problem details of any 4xx / 5xx."""
        try:
            response = self.http.request(method, self.in_project(path), **kwargs)
        except httpx.TransportError as error:
            raise MotionlabError.unreachable(self.url, error) from None
        if response.status_code >= 400:
            raise MotionlabError.from_response(response)
        return response

    def in_project(self, path: str) -> str:
        """/v1/runs → /v1/projects/{project}/runs, except in the default project and for what
        is the whole server's (tokens, projects)."""
        if self.project == DEFAULT_PROJECT or not path.startswith("/v1/"):
            return path
        if path.startswith(SERVER_WIDE):
            return path
        return f"/v1/projects/{self.project}/{path.removeprefix('/v1/')}"

    def get_json(self, path: str, **params: Any) -> Any:
        clean = {key: value for key, value in params.items() if value is not None}
        return self.request("GET", path, params=clean).json()

    # -- sessions -----------------------------------------------------------------------------

    def upload(
        self,
        data: str | Path | Any,
        *,
        session_id: str | None = None,
        activity: str | None = None,
        subject: str | None = None,
        split: str | None = None,
        sample_rate_hz: float | None = None,
        format: str | None = None,
        replace: bool = False,
        subject_from: str | None = None,
        session_column: str | None = None,
        label_column: str | None = None,
        subject_column: str | None = None,
        split_column: str | None = None,
        timestamp_column: str | None = None,
        channels: str | None = None,
    ) -> list[dict[str, Any]]:
        """Upload a file (.csv / .json / .cbor / .zip, optionally .gz), a folder (each file
        one session; a sub-folder's name is the activity of the files in it; `subject_from`:
        a regular expression whose `subject` group, searched in the path below the folder,
        is the subject) or a data frame (stacked CSV columns). `*_column`: the CSV's names of
        the columns motionlab reads (default sessionId, activity, subject, split, timestamp).
        `channels`: what columns hold, where their names do not say it
        (`accX=accelerometer.x:m/s2,gyrX=:deg/s`). Returns one entry per session (id, rows,
        features, channels, sha256, created, warnings)."""
        given = {
            "session_id": session_id,
            "activity": activity,
            "subject": subject,
            "split": split,
            "sample_rate_hz": sample_rate_hz,
            "format": format,
            "replace": "true" if replace else None,
            "session_column": session_column,
            "label_column": label_column,
            "subject_column": subject_column,
            "split_column": split_column,
            "timestamp_column": timestamp_column,
            "channels": channels,
        }
        params = {key: value for key, value in given.items() if value is not None}
        if isinstance(data, str | Path):
            path = Path(data)
            if not path.exists():
                raise InputError("File not found", f"{path}: no such file or folder")
            if path.is_dir():
                requests = folder_requests(path, params, subject_from)
            else:
                requests = [file_request(path, params)]
        else:
            requests = [frame_request(data, params)]
        stored: list[dict[str, Any]] = []
        for request in requests:
            stored += self._send_upload(request)
        return stored

    def _send_upload(self, request: UploadRequest) -> list[dict[str, Any]]:
        try:
            response = self.request(
                "POST",
                "/v1/sessions",
                content=request.body,
                files=request.files,
                headers=request.headers,
                params=request.params,
            )
        except MotionlabError as error:
            error.problem.setdefault("file", request.source)
            raise
        return response.json()["sessions"]

    def sessions(
        self, *, activity: str | None = None, subject: str | None = None, split: str | None = None
    ) -> list[dict[str, Any]]:
        """Every stored session (metadata), filtered by activity, subject and split."""
        return list(self._pages("/v1/sessions", activity=activity, subject=subject, split=split))

    def session(self, session_id: str) -> dict[str, Any]:
        """One session's metadata: activity, subject, split, features, rows, source…"""
        return self.get_json(f"/v1/sessions/{session_id}")

    def stats(self) -> dict[str, Any]:
        return self.get_json("/v1/stats")

    def _pages(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self.get_json(path, **params, limit=PAGE_SIZE, offset=offset)
            yield from page["items"]
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return

    # -- projects (the server's; an admin token of every project) -----------------------------

    def projects(self) -> list[dict[str, Any]]:
        return self.get_json("/v1/projects")

    def create_project(self, name: str) -> dict[str, Any]:
        return self.request("POST", "/v1/projects", json={"name": name}).json()

    def delete_project(self, name: str) -> None:
        """Delete `name` and everything it holds (a 409 while it has registered models)."""
        self.request("DELETE", f"/v1/projects/{name}")

    # -- runs ---------------------------------------------------------------------------------

    def train(self, **run_fields: Any) -> Run:
        """Queue a run (the fields of POST /v1/runs: prediction_window, max_iterations, …)."""
        return Run(self, self.request("POST", "/v1/runs", json=run_fields).json())

    def run(self, run_id: str) -> Run:
        return Run(self, self.get_json(f"/v1/runs/{run_id}"))

    def runs(
        self,
        *,
        experiment: str | None = None,
        status: str | None = None,
        sort: str = "-created_at",
    ) -> list[Run]:
        """Runs, filtered by experiment and status, sorted (e.g. `-test_accuracy`)."""
        items = self._pages("/v1/runs", experiment=experiment, status=status, sort=sort)
        return [Run(self, item) for item in items]

    # -- the registry -------------------------------------------------------------------------

    def register(self, run: Run | str, model: str) -> dict[str, Any]:
        """Register a succeeded run as the next version of `model` (its version if it is one
        already)."""
        run_id = run.id if isinstance(run, Run) else run
        return self.request("POST", f"/v1/models/{model}/versions", json={"run_id": run_id}).json()

    def set_alias(self, model: str, alias: str, version: int) -> dict[str, Any]:
        """Point `alias` (production, staging, …) of `model` at `version`."""
        return self.request(
            "PUT", f"/v1/models/{model}/aliases/{alias}", json={"version": version}
        ).json()

    def model(self, model: str) -> dict[str, Any]:
        return self.get_json(f"/v1/models/{model}")

    def pull(
        self,
        model: str,
        alias: str = "production",
        path: str | Path | None = None,
        file_format: str = "mlmodel",
    ) -> Pulled:
        """Download `model`'s `alias` (or version, or `latest`) to `path` (default
        `<model>.mlmodel`, `.onnx` or `.mlpackage.zip`, per `file_format`); nothing is
        downloaded when the file there is the same (its sha256 is the server's ETag: 304)."""
        if file_format not in MODEL_FILES:
            raise InputError(
                "Unknown model format", f"{file_format!r}: one of {', '.join(MODEL_FILES)}"
            )
        file = MODEL_FILES[file_format]
        target = Path(path) if path is not None else Path(model + file.removeprefix("model"))
        return self.download(f"/v1/models/{model}/{alias}/{file}", target)

    def download(self, url_path: str, target: Path) -> Pulled:
        """GET a file to `target` (written whole, then renamed into place), skipped with
        If-None-Match when `target` holds it already."""
        local = _sha256(target) if target.is_file() else None
        headers = {"If-None-Match": f'"{local}"'} if local else {}
        response = self.request("GET", url_path, headers=headers)
        if response.status_code == 304 and local:
            return Pulled(target, changed=False, sha256=local)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.part")
        partial.write_bytes(response.content)
        partial.replace(target)
        return Pulled(target, changed=True, sha256=hashlib.sha256(response.content).hexdigest())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
