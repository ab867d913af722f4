"""One settings object, read from MOTIONLAB_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.object_store import check_store_url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOTIONLAB_", extra="ignore")

    home: Path = Field(Path("var"), description="Runtime state: database, blobs, run artifacts.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite file motionlab.db under home."
    )
    host: str = "127.0.0.1"
    port: int = 8000
    tls_cert: Path | None = Field(
        None,
        description="PEM certificate (chain) to serve HTTPS with; phones need HTTPS for motion "
        "sensors (README: Record from a phone)",
    )
    tls_key: Path | None = Field(None, description="The PEM private key of MOTIONLAB_TLS_CERT")
    tokens: SecretStr = Field(
        SecretStr(""),
        description="API tokens for containers: `name:scope+scope:token` entries, comma-separated",
    )
    tokens_file: Path | None = Field(
        None, description="A file of such entries, one a line (e.g. a Docker secret)"
    )
    allowed_hosts: str = Field(
        "", description="Comma-separated extra Host names the API answers to (reverse proxies)"
    )
    insecure: bool = Field(
        False, description="Serve a non-loopback address without tokens: anyone may do anything"
    )
    max_upload_bytes: int = Field(
        512 * 1024 * 1024, description="Largest CSV / multipart upload or CSV rows body."
    )
    max_json_bytes: int = Field(
        16 * 1024 * 1024,
        description="Largest JSON body of samples (uploads, predict, evaluate): parsing JSON "
        "takes about 15 times its size in memory; send large data as CSV",
    )
    max_request_body_bytes: int = Field(
        1024 * 1024, description="Largest body of the other routes (run requests, registry)."
    )
    max_features: int = Field(1000, description="Most feature columns per session.")
    edge_impulse_hmac_key: SecretStr | None = Field(
        None,
        description="Edge Impulse project HMAC key: uploads in its format must be signed with "
        "it (HS256); unset: signatures are not checked",
    )
    workers: int = Field(1, description="Worker processes started by `motionlab serve`.")
    api_processes: int = Field(
        1, ge=1, description="API processes `motionlab serve` runs; the workers stay one pool"
    )
    worker_engines: str = Field("", description="Comma-separated engines a worker claims; all.")
    remote_engines: str = Field(
        "", description="Engines accepted although not installed here (workers elsewhere run them)"
    )
    train_threads: int = Field(
        0,
        description="CPU threads per training process; 0: one when the workers share the host "
        "with the API (`motionlab serve`) or it has at most 2 cores, else the cores shared "
        "among the workers",
    )
    heartbeat_interval_s: float = 2.0
    heartbeat_timeout_s: float = 30.0
    max_run_time_s: float = 6 * 3600.0
    max_attempts: int = 3
    poll_interval_s: float = Field(
        0.1, description="How often an idle worker looks for a queued run (a read-only query)."
    )
    store_url: str = Field(
        "",
        description="Where packs and run artifacts live, shared by every host: empty = under "
        "home; file:///path = a shared volume; s3://bucket/prefix = an S3-compatible store "
        "(credentials and region from the AWS_* variables)",
    )
    s3_endpoint_url: str = Field(
        "", description="The S3 endpoint (MinIO, Ceph, …); default: AWS_ENDPOINT_URL, or AWS"
    )
    store_grace_period_s: float = Field(
        3600.0,
        description="Age before an unreferenced pack file (e.g. of an upload cut off by a "
        "crash) is collected: longer than any upload takes to store",
    )
    store_collect_interval_s: float = Field(
        600.0, description="How often `serve` collects such files (and once at start-up)."
    )
    live_idle_timeout_s: float = Field(
        60.0, gt=0, description="A live classification stream with no frame for this long closes"
    )
    live_max_frame_bytes: int = Field(
        256 * 1024, ge=1024, description="Largest text frame a live classification stream takes"
    )
    live_max_rows_per_frame: int = Field(
        2000, ge=1, description="Most sample rows in one live classification frame"
    )
    project_max_stored_bytes: int | None = Field(
        None, ge=0, description="Most bytes of samples one project's sessions may hold; none: any"
    )
    project_max_queued_runs: int | None = Field(
        None, ge=0, description="Most queued runs (sweeps' included) one project may have"
    )
    log_level: str = "INFO"

    @field_validator("store_url")
    @classmethod
    def _check_store_url(cls, url: str) -> str:
        return check_store_url(url)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'motionlab.db'}"

    @property
    def remote_engine_names(self) -> frozenset[str]:
        """MOTIONLAB_REMOTE_ENGINES as names."""
        return frozenset(name for name in self.remote_engines.split(",") if name)

    @property
    def blobs_dir(self) -> Path:
        return self.home / "blobs"

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"


@lru_cache
def get_settings() -> Settings:
    return Settings()
