"""Server settings, from the command line and MODELOG_* environment variables."""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path(".modelog")
    database_url: str | None = None  # None: start an embedded PostgreSQL under data_dir
    default_schema: str = "unity.default"  # where MLflow names without dots live
    storage_root: str | None = None  # None: file://<data_dir>/artifacts

    @property
    def artifacts(self) -> str:
        return self.storage_root or f"file://{self.data_dir.expanduser().resolve()}/artifacts"
    max_body_bytes: int = 1 << 20
    pool_size: int = 20
