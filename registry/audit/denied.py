"""Denied attempts: requests refused for want of a privilege, kept in table `denied_attempts`."""

from datetime import datetime
from typing import Any

import asyncpg
import structlog

log = structlog.get_logger(__name__)


async def record(db: asyncpg.Pool, principal: str, details: dict[str, Any], request_id: str,
                 method: str, route: str) -> None:
    """Best effort: the refusal stands even if it cannot be recorded (the request log has it)."""
    try:
        await db.execute(
            "INSERT INTO denied_attempts (principal, action, securable_type, full_name, request_id,"
            " method, route) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            principal, details.get("action", ""), details.get("securable_type", ""),
            details.get("full_name", ""), request_id, method, route)
    except (asyncpg.PostgresError, OSError):
        log.warning("denied attempt not recorded", request_id=request_id, exc_info=True)


async def query(db: asyncpg.Pool, *, principal: str | None, since: datetime | None,
                until: datetime | None, limit: int) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT * FROM denied_attempts WHERE ($1::text IS NULL OR principal = $1)"
        " AND ($2::timestamptz IS NULL OR at >= $2) AND ($3::timestamptz IS NULL OR at < $3)"
        " ORDER BY id LIMIT $4", principal, since, until, limit)
    return [{**dict(r), "at": r["at"].isoformat()} for r in rows]
