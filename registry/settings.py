"""Server settings, from the command line and MODELOG_* environment variables."""

import functools
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from registry.memory import DEFAULT as DEFAULT_MEMORY

AuthMode = Literal["none", "tokens", "trusted-header"]


@dataclass(frozen=True)
class S3Settings:
    """How credentials for an s3:// storage root are made (registry/storage/s3.py)."""

    credentials: Literal["sts", "static"] = "sts"  # STS AssumeRole per version, or our own keys
    role_arn: str | None = None  # the role STS lets us assume
    region: str | None = None  # None: botocore's (AWS_REGION, profile), else us-east-1
    sts_endpoint: str | None = None  # an S3-compatible store's own STS; None: AWS's
    credential_seconds: int = 3600  # how long a credential lives (STS allows 900..43200)


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path(".modelog")
    database_url: str | None = None  # None: start an embedded PostgreSQL under data_dir
    default_schema: str = "unity.default"  # the workspace schema: every MLflow name is a model of it
    tracking_uri: str | None = None  # the MLflow tracking server runs and logged models are on
    storage_root: str | None = None  # None: file://<data_dir>/artifacts
    s3: S3Settings = field(default_factory=S3Settings)
    auth: AuthMode | None = None  # None: "none" on a loopback bind, else "tokens"
    insecure_no_auth: bool = False  # "none" on any bind
    trusted_header: str = "X-Forwarded-User"  # names the principal in "trusted-header" mode
    auth_cache_seconds: float = 10.0  # how late another process's revocation may be seen

    @property
    def auth_mode(self) -> AuthMode:
        if self.auth is not None:
            return self.auth
        return "none" if self.insecure_no_auth or is_loopback(self.host) else "tokens"

    @property
    def artifacts(self) -> str:
        return self.storage_root or f"file://{self.data_dir.expanduser().resolve()}/artifacts"
    max_body_bytes: int = 1 << 20
    body_seconds: float = 60.0  # for a request body to arrive whole (slow headers: aiohttp's own)
    pool_size: int = 20
    memory: int = DEFAULT_MEMORY  # bytes the write model and the read cache may hold together
    workers: int = 1  # server processes sharing the log (`serve --workers`): >1 locks every batch
    feed_heartbeat: float = 15.0  # seconds between `: keepalive` comments on an idle event stream
    webhook_timeout: float = 10.0  # per delivery attempt
    webhook_backoff: float = 2.0  # first retry after about this many seconds, doubling after
    webhook_backoff_cap: float = 600.0
    webhook_max_attempts: int = 8  # then the delivery is marked failed
    webhook_retention_days: float = 30.0  # finished deliveries stay in the delivery log this long
    # MLflow's webhooks API, configured as MLflow's server is (its environment variables
    # MLFLOW_WEBHOOK_ALLOWED_SCHEMES and MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS): the URL schemes its
    # webhooks may use, and whether their hosts may be private (loopback, LAN, link-local).
    mlflow_webhook_schemes: tuple[str, ...] = ("https",)
    mlflow_webhook_allow_private_ips: bool = False


@functools.cache  # asked on every request (auth_mode), of the one host the server binds
def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name other than localhost may resolve to anything
        return False
