"""`projections rebuild`: replaying the whole log gives exactly the live read models."""

import asyncio

import asyncpg
import pytest

from projections.rebuild import compare, rebuild
from registry.domain import DomainError
from registry.domain import commands as c
from registry.domain.events import PrivilegeChange
from registry.service.handler import RegistryService


async def make_history(svc: RegistryService) -> None:
    """Every kind of event, including deletes, renames and re-creations under an old name."""
    run = svc.execute
    await run(c.CreateCatalog(name="prod", comment="production"), "admin")
    await run(c.UpdateCatalog(name="prod", comment="prod models"), "admin")
    await run(c.CreateCatalog(name="scratch"), "admin")
    await run(c.CreateSchema(catalog_name="scratch", name="tmp"), "admin")
    await run(grant("catalog", "scratch", "bob", "USE CATALOG"), "admin")  # ends with the catalog
    await run(c.DeleteSchema(catalog_name="scratch", name="tmp"), "admin")
    await run(c.DeleteCatalog(name="scratch"), "admin")
    await run(c.CreateSchema(catalog_name="prod", name="fraud", comment="fraud"), "admin")
    await run(c.UpdateSchema(catalog_name="prod", name="fraud", comment="fraud team"), "admin")
    for i in range(5):
        name = f"prod.fraud.m{i}"
        await run(c.CreateModel(full_name=name, description=f"model {i}", tags={"i": str(i)}),
                  "alice")
        await asyncio.gather(*(run(c.RegisterVersion(full_name=name, source=f"s3://{i}/{v}",
                                                     run_id=f"r{v}", tags={"v": str(v)}), "bob")
                               for v in range(4)))
        await run(c.FinalizeVersion(full_name=name, version=1), "bob")
        await run(c.FinalizeVersion(full_name=name, version=2, status="FAILED_REGISTRATION",
                                    status_message="bad"), "bob")
        await run(c.SetAlias(full_name=name, alias="champion", version=1), "carol")
        await run(c.SetAlias(full_name=name, alias="champion", version=3), "carol")
        await run(c.SetAlias(full_name=name, alias="challenger", version=4), "carol")
        await run(c.SetVersionTag(full_name=name, version=3, key="k", value="x"), "bob")
        await run(c.DeleteVersionTag(full_name=name, version=1, key="v"), "bob")
        await run(c.UpdateVersionDescription(full_name=name, version=3, description="d"), "bob")
        await run(c.DeleteVersion(full_name=name, version=4), "bob")  # drops 'challenger'
        await run(c.SetModelTag(full_name=name, key="owner-team", value="risk"), "alice")
        await run(c.DeleteModelTag(full_name=name, key="i"), "alice")
        await run(c.UpdateModelDescription(full_name=name, description="updated"), "alice")
    # Stage transitions: direct, and through requests approved, rejected, cancelled or left open.
    m4 = "prod.fraud.m4"
    await run(c.TransitionStage(full_name=m4, version=1, stage="Staging"), "carol")
    await run(c.RequestTransition(full_name=m4, version=3, stage="Production", comment="go"), "bob")
    await run(c.ApproveTransition(full_name=m4, version=3, stage="Production", comment="ok",
                                  archive_existing_versions=True), "carol")
    await run(c.RequestTransition(full_name=m4, version=1, stage="Production"), "bob")
    await run(c.RejectTransition(full_name=m4, version=1, stage="Production", comment="no"), "dan")
    await run(c.RequestTransition(full_name=m4, version=2, stage="Staging"), "bob")
    await run(c.CancelTransition(full_name=m4, version=2, stage="Staging"), "bob")
    await run(c.RequestTransition(full_name=m4, version=2, stage="Archived", comment="old"), "bob")
    await run(c.RenameModel(full_name="prod.fraud.m0", new_full_name="unity.default.m0"), "alice")
    await run(c.DeleteAlias(full_name="prod.fraud.m1", alias="champion"), "carol")
    # Grants and owners: changed, revoked, transferred, and gone with their object.
    await run(grant("catalog", "prod", "bob", "USE CATALOG", "USE SCHEMA"), "admin")
    await run(grant("schema", "prod.fraud", "carol", "CREATE MODEL", "MANAGE"), "admin")
    await run(grant("registered_model", "prod.fraud.m2", "dan", "EXECUTE"), "alice")
    await run(grant("registered_model", "unity.default.m0", "dan", "EXECUTE", "APPLY TAG"), "alice")
    await run(c.UpdatePermissions(securable_type="registered_model", full_name="unity.default.m0",
                                  changes=[PrivilegeChange(principal="dan", remove=["EXECUTE"])]),
              "alice")
    await run(c.TransferOwnership(securable_type="schema", full_name="prod.fraud", owner="carol"),
              "admin")
    await run(c.TransferOwnership(securable_type="registered_model", full_name="prod.fraud.m1",
                                  owner="dan"), "alice")
    await run(c.DeleteModel(full_name="prod.fraud.m2", force=True), "alice")
    await run(c.CreateModel(full_name="prod.fraud.m2", description="second life"), "alice")
    with pytest.raises(DomainError):
        await run(c.DeleteModel(full_name="prod.fraud.m3"), "alice")  # has versions, no force


def grant(securable_type: str, full_name: str, principal: str, *add: str) -> c.UpdatePermissions:
    return c.UpdatePermissions(securable_type=securable_type, full_name=full_name,
                               changes=[PrivilegeChange(principal=principal, add=list(add))])


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
