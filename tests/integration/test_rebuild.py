"""`projections rebuild`: replaying the whole log gives exactly the live read models."""

import asyncpg

from projections.rebuild import compare, rebuild
from registry.domain import commands as c
from registry.service.handler import RegistryService
from tests.support.history import make_history


async def snapshot(pool: asyncpg.Pool) -> dict[str, list]:
    out = {}
    for table in ("catalogs", "schemas", "registered_models", "model_versions", "model_aliases",
                  "model_tags", "version_tags", "model_names", "transition_requests", "grants"):
        out[table] = sorted(tuple(r) for r in await pool.fetch(f"TABLE read_model.{table}"))
    return out


async def test_rebuild_equals_the_live_read_models(service: RegistryService,
                                                   pool: asyncpg.Pool) -> None:
    await make_history(service)
    seen: list[tuple[int, int]] = []
    result = await rebuild(pool, swap=False, progress=lambda p, h: seen.append((p, h)))
    assert result.differences == []
    assert result.events == await pool.fetchval("SELECT count(*) FROM events") > 100
    assert seen and seen[-1][0] == seen[-1][1]  # progress reached the head
    # The rebuilt schema is dropped after the comparison.
    assert await pool.fetchval("SELECT count(*) FROM pg_namespace WHERE nspname LIKE "
                               "'read_model_rebuild_%'") == 0


async def test_rebuild_comparison_notices_a_drifted_read_model(service: RegistryService,
                                                               pool: asyncpg.Pool) -> None:
    await make_history(service)
    await pool.execute("UPDATE read_model.registered_models SET description = 'drift' "
                       "WHERE full_name = 'prod.fraud.m1'")
    await pool.execute("DELETE FROM read_model.model_aliases WHERE alias = 'champion' "
                       "AND version = 3 AND model_id = (SELECT id FROM read_model.registered_models "
                       "WHERE full_name = 'prod.fraud.m3')")
    result = await rebuild(pool, swap=False)
    assert result.differences == ["model_aliases", "registered_models"]


async def test_rebuild_with_swap_repairs_drift_and_keeps_serving(service: RegistryService,
                                                                 pool: asyncpg.Pool) -> None:
    await make_history(service)
    expected = await snapshot(pool)
    await pool.execute("UPDATE read_model.model_versions SET source = 'drift'")
    await rebuild(pool, swap=True)
    assert await snapshot(pool) == expected
    async with pool.acquire() as conn:
        assert await compare(conn, "read_model", "read_model") == []
    # Writes go on into the swapped-in tables.
    await service.execute(c.RegisterVersion(full_name="prod.fraud.m1", source="s3://after"), "bob")
    rows = await pool.fetch("SELECT version FROM model_versions v JOIN registered_models m "
                            "ON m.id = v.model_id WHERE m.full_name = 'prod.fraud.m1' "
                            "ORDER BY version")
    assert [r["version"] for r in rows] == [1, 2, 3, 5]


async def test_a_parallel_rebuild_equals_the_live_read_models(service: RegistryService,
                                                              pool: asyncpg.Pool,
                                                              db_url: str) -> None:
    await make_history(service)
    seen: list[tuple[int, int]] = []
    result = await rebuild(pool, swap=False, dsn=db_url, parallel_from=0,
                           progress=lambda p, h: seen.append((p, h)))
    assert result.differences == []
    assert result.events == await pool.fetchval("SELECT count(*) FROM events")
    assert seen[-1][0] == seen[-1][1]
