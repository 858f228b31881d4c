"""What PostgreSQL plans for the statements a read runs: record them, then EXPLAIN them as a cached
statement's generic plan would run them and as a plan for their values (tests and bench/pages.py)."""

import json
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any
from uuid import UUID

import asyncpg


class Recorder:
    """A connection that keeps every (statement, arguments) a read fetches through it. Not a Pool,
    so `queries.fetch_planned` takes its transaction path on it, as on any connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.fetched: list[tuple[str, tuple[Any, ...]]] = []
        self.planned: list[bool] = []  # per statement: planned for its values (fetch_planned)?
        self._custom = False

    def _record(self, sql: str, args: tuple[Any, ...]) -> None:
        self.fetched.append((sql, args))
        self.planned.append(self._custom)
        self._custom = False

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        self._record(sql, args)
        return await self.conn.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        self._record(sql, args)
        return await self.conn.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        self._record(sql, args)
        return await self.conn.fetchval(sql, *args)

    async def execute(self, sql: str, *args: Any) -> str:
        self._custom = self._custom or "force_custom_plan" in sql
        return await self.conn.execute(sql, *args)

    def transaction(self) -> AbstractAsyncContextManager[Any]:
        return self.conn.transaction()


def literal(value: Any) -> str:
    """An argument as an SQL literal (for EXECUTE of a prepared statement: EXPLAIN takes none)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        kind = "uuid" if value and all(isinstance(v, UUID) for v in value) else "text"
        return "ARRAY[" + ", ".join(literal(v) for v in value) + f"]::{kind}[]" if value \
            else "'{}'"  # untyped: the statement's own cast types it
    return "'" + str(value).replace("'", "''") + "'"


async def explain(conn: asyncpg.Connection, sql: str, args: tuple[Any, ...], *,
                  generic: bool, seqscan: bool = True) -> dict[str, Any]:
    """The plan (EXPLAIN's JSON root node) of `sql` with `args`: with `generic`, the plan a cached
    statement settles on after its first executions, which cannot know the values; else a plan
    for these values (what `queries.fetch_planned` gets). Without `seqscan`, the plan PostgreSQL
    makes when reading a table whole is not an option: which index, if any, answers the query."""
    mode = "force_generic_plan" if generic else "force_custom_plan"
    async with conn.transaction():
        await conn.execute(f"SET LOCAL plan_cache_mode = {mode}")
        if not seqscan:
            await conn.execute("SET LOCAL enable_seqscan = off")
        await conn.execute(f"PREPARE modelog_explained AS {sql}")
        try:
            params = f"({', '.join(literal(a) for a in args)})" if args else ""
            text = await conn.fetchval(
                f"EXPLAIN (FORMAT JSON) EXECUTE modelog_explained{params}")
        finally:
            await conn.execute("DEALLOCATE modelog_explained")
    plan = json.loads(text) if isinstance(text, str) else text
    return plan[0]["Plan"]


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def indexes(plan: dict[str, Any]) -> list[str]:
    return [n["Index Name"] for n in nodes(plan) if "Index Name" in n]


def seq_scans(plan: dict[str, Any]) -> list[str]:
    return [n["Relation Name"] for n in nodes(plan) if n["Node Type"] == "Seq Scan"]


def conditions_of(plan: dict[str, Any], index: str) -> list[str]:
    """The conditions `index` is searched with: an index scan's, or the recheck of the bitmap
    heap scan above a bitmap index scan (a GIN index's conditions show there too)."""
    out = [n["Index Cond"] for n in nodes(plan) if n.get("Index Name") == index
           and "Index Cond" in n]
    out += [n["Recheck Cond"] for n in nodes(plan) if "Recheck Cond" in n
            and any(c.get("Index Name") == index for c in nodes(n) if c is not n)]
    return out
