"""Privileges under concurrency: a revoke decided before a write counts for it even when both are
in flight together, and grants and revokes made by another server process on the same log count
there too, for writes at once and for reads within a notification's latency."""

import asyncio

import pytest

from registry.domain import commands as c
from registry.domain.errors import PermissionDenied
from registry.domain.principals import Principal
from registry.http.keys import SERVICE
from tests.support.server import BOOTSTRAP, V1, Server, call, patch, serving, use_parents

MODEL = "unity.default.scorer"


async def _team(server: Server, admin: str) -> dict[str, str]:
    """Tokens for admin and bob; the admin's model, with a version, that bob may manage."""
    tokens = {"admin": admin}
    _, issued, _ = await call(server, "POST", f"{V1}/tokens", admin, json={"principal": "bob"})
    tokens["bob"] = issued["token"]
    await use_parents(server, admin, "bob")
    assert (await call(server, "POST", f"{V1}/models", admin, json={"name": MODEL}))[0] == 201
    status, _, _ = await call(server, "POST", f"{V1}/models/{MODEL}/versions", admin,
                              json={"source": "s3://b/1"})
    assert status == 201
    status, _, _ = await call(server, "PATCH", f"{V1}/permissions/registered_model/{MODEL}", admin,
                              json=patch("bob", ["MANAGE", "EXECUTE"]))
    assert status == 200
    return tokens


async def test_a_revoke_in_flight_before_a_write_counts_for_it(
        db_url: str, tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    """Both commands reach the writer in one batch, the revoke first: the write is decided after
    it, so it is refused. (A check made before the writer would have let it through.)"""
    async with serving(db_url, tmp_path, auth="tokens", auth_cache_seconds=0) as server:
        await _team(server, BOOTSTRAP.findall(capsys.readouterr().err)[0])
        service = server.app[SERVICE]
        admin, bob = Principal("admin", admin=True), Principal("bob", admin=False)
        revoke = c.UpdatePermissions(securable_type="registered_model", full_name=MODEL,
                                     changes=[{"principal": "bob", "remove": ["MANAGE"]}])
        results = await asyncio.gather(
            service.execute(revoke, admin),
            service.execute(c.SetAlias(full_name=MODEL, alias="champion", version=1), bob),
            return_exceptions=True)
        assert not isinstance(results[0], BaseException)
        assert isinstance(results[1], PermissionDenied), results[1]
        # and nothing was appended for it:
        events = await server.app[SERVICE].store.pool.fetchval(
            "SELECT count(*) FROM events WHERE type = 'AliasSet'")
        assert events == 0


async def test_another_process_grants_and_revokes_count_here(
        db_url: str, tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    async with serving(db_url, tmp_path / "a", auth="tokens", auth_cache_seconds=0) as a:
        t = await _team(a, BOOTSTRAP.findall(capsys.readouterr().err)[0])
        async with serving(db_url, tmp_path / "b", auth="tokens", auth_cache_seconds=0) as b:
            alias = f"{V1}/models/{MODEL}/aliases/champion"
            model = f"{V1}/models/{MODEL}"
            assert (await call(b, "GET", model, t["bob"]))[0] == 200
            assert (await call(b, "PUT", alias, t["bob"], json={"version": 1}))[0] == 200
            # Revoked on a: b refuses bob's next write at once (its writer finds the head moved
            # and decides on the revoke), and his reads as soon as b hears of it.
            status, _, _ = await call(a, "PATCH", f"{V1}/permissions/registered_model/{MODEL}",
                                      t["admin"], json=patch("bob", remove=["MANAGE", "EXECUTE"]))
            assert status == 200
            status, err, _ = await call(b, "DELETE", alias, t["bob"])
            assert status == 403 and err["error_code"] == "PERMISSION_DENIED"
            assert await _eventually(b, model, t["bob"], 403)
            # Granted again on a, with no write on b in between: b's reads see it.
            status, _, _ = await call(a, "PATCH", f"{V1}/permissions/registered_model/{MODEL}",
                                      t["admin"], json=patch("bob", ["EXECUTE"]))
            assert status == 200
            assert await _eventually(b, model, t["bob"], 200)
            assert (await call(b, "DELETE", alias, t["bob"]))[0] == 403  # EXECUTE only


async def _eventually(server: Server, path: str, token: str, expected: int) -> bool:
    for _ in range(100):
        if (await call(server, "GET", path, token))[0] == expected:
            return True
        await asyncio.sleep(0.05)
    return False
