"""The write model holds models only as they are looked up, within a memory budget: start-up loads
none, and every decision and read check comes out the same whether a model was held or had to be
looked up again (budget 0 drops what it can after every batch)."""

import asyncio
from typing import Any

import asyncpg
import pytest

from registry import bootstrap
from registry.domain import commands as c
from registry.domain.errors import AlreadyExists, FailedPrecondition, NotFound, PermissionDenied
from registry.domain.principals import Principal
from registry.eventstore import Tx
from registry.reads.access import ReadAccess
from registry.service.write_model import DEFAULT_BUDGET, ENTRY_BYTES

BOB = Principal("bob", admin=False)


def grant(kind: str, name: str, *privileges: str, remove: bool = False) -> c.UpdatePermissions:
    return c.UpdatePermissions(securable_type=kind, full_name=name, changes=[
        {"principal": "bob", "remove" if remove else "add": list(privileges)}])


async def names_in(pool: asyncpg.Pool, catalog: str) -> list[str]:
    return [r[0] for r in await pool.fetch(
        "SELECT full_name FROM registered_models WHERE catalog_name = $1 ORDER BY 1", catalog)]


async def nothing(tx: Tx) -> None:
    return None


@pytest.mark.parametrize("budget", [DEFAULT_BUDGET, 0], ids=["held", "dropped"])
async def test_decisions_and_checks_do_not_depend_on_what_is_held(pool, budget: int) -> None:
    async with bootstrap.writing(pool, bootstrap=True, memory=budget) as w:
        svc, wm = w.service, w.write_model

        async def run(cmd: c.Command) -> Any:
            return await svc.execute(cmd, "admin")

        for cmd in (c.CreateCatalog(name="prod"), c.CreateSchema(catalog_name="prod", name="a"),
                    c.CreateSchema(catalog_name="prod", name="b"),
                    c.CreateModel(full_name="prod.a.m1"), c.CreateModel(full_name="prod.a.m2"),
                    c.CreateModel(full_name="prod.b.m3")):
            await run(cmd)
        if budget == 0:
            assert wm.held_bytes() <= 2 * ENTRY_BYTES  # halved after each batch
        with pytest.raises(AlreadyExists):
            await run(c.CreateModel(full_name="prod.a.m1"))
        with pytest.raises(AlreadyExists):
            await run(c.RenameModel(full_name="prod.a.m1", new_full_name="prod.a.m2"))
        await run(c.RenameModel(full_name="prod.a.m1", new_full_name="prod.b.m1"))
        await run(c.CreateModel(full_name="prod.a.m1"))  # the name it left is free
        with pytest.raises(FailedPrecondition):
            await run(c.DeleteSchema(catalog_name="prod", name="b"))

        bob = ReadAccess(BOB, wm, pool)
        with pytest.raises(PermissionDenied):
            await bob.require("prod.a.m2")
        for cmd in (grant("catalog", "prod", "USE CATALOG"),
                    grant("schema", "prod.a", "USE SCHEMA"),
                    grant("registered_model", "prod.a.m2", "EXECUTE")):
            await run(cmd)
        await bob.require("prod.a.m2")
        assert [n for n in ("prod.a.m1", "prod.a.m2") if (await bob.readable([n]))(n)] \
            == ["prod.a.m2"]
        await run(grant("registered_model", "prod.a.m2", "EXECUTE", remove=True))
        with pytest.raises(PermissionDenied):
            await bob.require("prod.a.m2")

        await run(c.RenameSchema(catalog_name="prod", name="a", new_name="c"))
        assert await names_in(pool, "prod") == ["prod.b.m1", "prod.b.m3", "prod.c.m1",
                                                "prod.c.m2"]
        with pytest.raises(NotFound):
            await run(c.CreateModel(full_name="prod.a.m2"))
        await run(c.CreateSchema(catalog_name="prod", name="a"))
        await run(c.CreateModel(full_name="prod.a.m2"))
        with pytest.raises(AlreadyExists):
            await run(c.CreateModel(full_name="prod.c.m2"))
        await run(c.DeleteCatalog(name="prod", force=True))
        assert await names_in(pool, "prod") == []

    async with bootstrap.writing(pool) as restarted:  # as a restart: nothing held until asked
        await restarted.store.transact(nothing)
        assert restarted.write_model.state.model_names == {}
        await restarted.service.execute(c.CreateCatalog(name="prod"), "admin")
        await restarted.service.execute(c.CreateSchema(catalog_name="prod", name="a"), "admin")
        await restarted.service.execute(c.CreateModel(full_name="prod.a.m1"), "admin")


class Paused:
    """A pool whose fetches answer only when let go: a lookup caught mid-flight."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.fetched, self.go = asyncio.Event(), asyncio.Event()

    async def fetch(self, *args: Any) -> list[asyncpg.Record]:
        rows = await self.pool.fetch(*args)
        self.fetched.set()
        await self.go.wait()
        return rows


@pytest.mark.parametrize("change", ["grant", "delete", "rename", "create"])
async def test_a_lookup_that_raced_another_process_keeps_nothing_stale(pool, change: str) -> None:
    """A lookup reads the committed state; another process commits a change to what it looked up
    and this writer catches up on it; only then does the lookup's answer arrive."""
    async with bootstrap.writing(pool, bootstrap=True) as w:
        for cmd in (c.CreateModel(full_name="unity.default.m"),
                    grant("catalog", "unity", "USE CATALOG"),
                    grant("schema", "unity.default", "USE SCHEMA")):
            await w.service.execute(cmd, "admin")
    async with bootstrap.writing(pool) as w, bootstrap.writing(pool) as other:
        wm = w.write_model
        await w.store.transact(nothing)  # loaded, holding no model
        name = "unity.default.fresh" if change == "create" else "unity.default.m"
        paused = Paused(pool)
        lookup = asyncio.create_task(wm.know(paused, names=[name]))  # type: ignore[arg-type]
        await paused.fetched.wait()  # it read the name as committed before the change
        match change:
            case "grant":
                cmd: c.Command = grant("registered_model", name, "EXECUTE")
            case "delete":
                cmd = c.DeleteModel(full_name=name)
            case "rename":
                cmd = c.RenameModel(full_name=name, new_full_name="unity.default.n")
            case _:
                cmd = c.CreateModel(full_name=name)
        await other.service.execute(cmd, "admin")
        await w.store.transact(nothing)  # catches up on the other process's commit
        paused.go.set()
        await lookup
        held = await pool.fetchval("SELECT id FROM registered_models WHERE full_name = $1", name)
        assert wm.state.model_id(name) == held
        assert (held is None) == (change in ("delete", "rename"))
        if change == "grant":  # the grant counts, whether the lookup's answer was kept or not
            await ReadAccess(BOB, wm, pool).require(name)


async def test_reads_that_outgrow_the_budget_are_dropped_by_the_next_batch(pool) -> None:
    budget = 10 * ENTRY_BYTES
    async with bootstrap.writing(pool, bootstrap=True, memory=budget) as w:
        names = [f"unity.default.m{i}" for i in range(40)]
        for name in names:
            await w.service.execute(c.CreateModel(full_name=name), "admin")
        await w.store.transact(nothing)
        wm = w.write_model
        assert wm.held_bytes() <= budget
        shown = await ReadAccess(BOB, wm, pool).readable(names)
        assert not any(shown(n) for n in names)  # bob holds nothing on them
        assert wm.held_bytes() > budget and wm.over_budget.is_set()
        await w.store.transact(nothing)  # what the write model's sync task does when told
        assert wm.held_bytes() <= budget and not wm.over_budget.is_set()
