"""`as_of`'s position lookup and `modelog replay`'s documents on PostgreSQL, without the server: a
time finds the last event at or before it, and a replay says who held which privileges then."""

from datetime import timedelta

from registry.cli.replay import replay
from registry.domain import commands as c
from registry.eventstore import head_position, position_at
from tests.support.history import make_history


async def test_position_at_finds_the_last_event_at_or_before_an_instant(service, pool) -> None:
    await make_history(service)
    times = [r["recorded_at"] for r in await pool.fetch("SELECT recorded_at FROM events")]
    tick = timedelta(microseconds=1)
    for t in {times[0] - timedelta(days=1), times[-1] + tick, *times, *(t - tick for t in times)}:
        expected = await pool.fetchval(
            "SELECT coalesce(max(position), 0) FROM events WHERE recorded_at <= $1", t)
        assert await position_at(pool, t) == expected, t


async def test_replay_says_who_held_what_then(service, pool) -> None:
    """`modelog replay` documents carry each object's grants as they were: the whole registry's
    fold and one model's (its stream and its parents') agree."""
    for cmd in (c.CreateCatalog(name="prod"), c.CreateSchema(catalog_name="prod", name="fraud"),
                c.CreateModel(full_name="prod.fraud.scorer"),
                c.UpdatePermissions(securable_type="registered_model", full_name="prod.fraud.scorer",
                                    changes=[{"principal": "bob", "add": ["EXECUTE", "MANAGE"]}]),
                c.UpdatePermissions(securable_type="catalog", full_name="prod",
                                    changes=[{"principal": "carol", "add": ["USE CATALOG"]}])):
        await service.execute(cmd, "admin")
    then = await head_position(pool)
    await service.execute(c.UpdatePermissions(
        securable_type="registered_model", full_name="prod.fraud.scorer",
        changes=[{"principal": "bob", "remove": ["MANAGE"]}]), "admin")
    whole = await replay(pool, str(then))
    one = await replay(pool, str(then), "prod.fraud.scorer")
    bob = [{"principal": "bob", "privileges": ["EXECUTE", "MANAGE"]}]
    assert one["model"]["privilege_assignments"] == bob
    assert next(m for m in whole["models"] if m["full_name"] == "prod.fraud.scorer") == one["model"]
    assert next(x for x in whole["catalogs"] if x["name"] == "prod")["privilege_assignments"] == [
        {"principal": "carol", "privileges": ["USE CATALOG"]}]
    now = await replay(pool, str(await head_position(pool)), "prod.fraud.scorer")
    assert now["model"]["privilege_assignments"] == [{"principal": "bob", "privileges": ["EXECUTE"]}]
