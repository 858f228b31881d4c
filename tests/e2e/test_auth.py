"""Authentication over real HTTP: tokens, modes, 401s in each surface's format, admin-only routes,
the trusted header, the first-start admin token, and tokens never in the log."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
import structlog

from registry.auth import tokens
from registry.http.keys import AUTH
from tests.support.server import (
    BOOTSTRAP,
    SURFACES,
    V1,
    Server,
    actors,
    call,
    may_create_models,
    serving,
)


@pytest.fixture
async def secured(db_url: str, tmp_path, capsys: pytest.CaptureFixture[str]
                  ) -> AsyncIterator[tuple[Server, str]]:
    """A server in tokens mode (cache off, so other processes' changes show at once) and the
    admin token it printed at its first start."""
    async with serving(db_url, tmp_path, auth="tokens", auth_cache_seconds=0) as server:
        printed = BOOTSTRAP.findall(capsys.readouterr().err)
        assert len(printed) == 1
        yield server, printed[0]


async def test_every_surface_answers_401_in_its_own_format(secured) -> None:
    server, admin = secured
    assert (await call(server, "GET", "/healthz"))[0] == 200
    assert (await call(server, "GET", "/readyz"))[0] == 200
    assert (await call(server, "GET", "/metrics"))[0] == 200
    codes = {"native": "UNAUTHENTICATED", "mlflow": "UNAUTHENTICATED", "uc": "UNAUTHENTICATED"}
    wrong = tokens.Token(admin[4:20], "A" * 43)  # a known id, an equal-length wrong secret
    for surface, (method, path) in SURFACES.items():
        for token in (None, "garbage", wrong, "A" * 5000):
            status, body, headers = await call(server, method, path, token)
            assert status == 401 and body["error_code"] == codes[surface], (surface, token, body)
            assert headers["WWW-Authenticate"].startswith("Bearer")
            assert str(token) not in body["message"]
        assert (await call(server, method, path, admin))[0] == 200
    uc = (await call(server, *SURFACES["uc"]))[1]
    assert isinstance(uc["details"], list)
    # An unknown route is a 401 too: no one learns what exists without a token.
    assert (await call(server, "GET", "/api/2.0/mlflow/nope"))[0] == 401


async def test_odd_authorization_headers_are_401s_never_500s(secured) -> None:
    server, admin = secured
    odd = [admin, f"bearer {admin}x", f"Basic {admin}", f"Bearer {admin} {admin}", "Bearer\t" + admin,
           "Bearer " + "é" * 100, "Bearer mlg_" + "0" * 16 + "_" + "A" * 43, "Bearer " + "A" * 8000]
    async with aiohttp.ClientSession() as http:
        for header in odd:
            async with http.get(server.url + SURFACES["native"][1],
                                headers={"Authorization": header}) as r:
                # Past aiohttp's 8 KiB header limit the server answers 400 before any middleware.
                assert r.status in ((400, 401) if len(header) > 8000 else (401,)), header[:40]
        async with http.get(server.url + SURFACES["native"][1],
                            headers={"Authorization": f"bearer {admin}"}) as r:
            assert r.status == 200


async def test_tokens_are_issued_listed_and_revoked_by_admins_only(secured) -> None:
    server, admin = secured
    status, alice, _ = await call(server, "POST", f"{V1}/tokens", admin,
                                  json={"principal": "alice", "expires": "30d"})
    assert status == 201 and alice["principal"] == "alice" and BOOTSTRAP.fullmatch(alice["token"])
    assert datetime.fromisoformat(alice["expires_at"]) > datetime.now(UTC) + timedelta(days=29)

    # alice writes as alice, but may not manage tokens
    await may_create_models(server, "alice")
    status, _, _ = await call(server, "POST", f"{V1}/models", alice["token"],
                              json={"name": "unity.default.m"})
    assert status == 201
    assert await actors(server, "model:") == [("ModelCreated", "alice")]
    for method, path, body in (("GET", f"{V1}/tokens", None),
                               ("POST", f"{V1}/tokens", {"principal": "mallory", "admin": True}),
                               ("DELETE", f"{V1}/tokens/{alice['id']}", None)):
        status, err, _ = await call(server, method, path, alice["token"], json=body)
        assert status == 403 and err["error_code"] == "PERMISSION_DENIED"

    status, listed, _ = await call(server, "GET", f"{V1}/tokens", admin)
    rows = {t["principal"]: t for t in listed["tokens"]}
    assert set(rows) == {"admin", "alice"} and rows["admin"]["admin"] is True
    assert rows["alice"]["last_used_at"] and not rows["alice"]["revoked"]
    assert all("token" not in t and "secret_hash" not in t for t in listed["tokens"])

    status, revoked, _ = await call(server, "DELETE", f"{V1}/tokens/{alice['id']}", admin)
    assert status == 200 and revoked["revoked"] and revoked["revoked_by"] == "admin"
    assert (await call(server, "DELETE", f"{V1}/tokens/{alice['id']}", admin))[0] == 200
    assert (await call(server, "DELETE", f"{V1}/tokens/0000000000000000", admin))[0] == 404
    # Revoking by the whole token works, and the answer does not echo its secret.
    _, dave, _ = await call(server, "POST", f"{V1}/tokens", admin, json={"principal": "dave"})
    status, revoked, _ = await call(server, "DELETE", f"{V1}/tokens/{dave['token']}", admin)
    assert status == 200 and revoked["id"] == dave["id"] and dave["token"] not in str(revoked)
    status, err, _ = await call(server, "GET", f"{V1}/models/unity.default.m", alice["token"])
    assert status == 401 and err["error_code"] == "UNAUTHENTICATED"

    assert await actors(server, "principal:") == [("PrincipalCreated", "admin")] * 3
    assert await actors(server, "token:") == [
        ("TokenIssued", "admin"), ("TokenIssued", "admin"), ("TokenRevoked", "admin"),
        ("TokenIssued", "admin"), ("TokenRevoked", "admin")]
    # The log holds no secret nor hash: only ids.
    logged = await server.app[AUTH].pool.fetchval("SELECT string_agg(data::text, ' ') FROM events")
    hashes = await server.app[AUTH].pool.fetch("SELECT secret_hash FROM auth_tokens")
    assert alice["token"][21:] not in logged and admin[21:] not in logged
    assert all(r["secret_hash"].hex() not in logged for r in hashes)


async def test_an_expired_token_is_refused(secured) -> None:
    server, _admin = secured
    token, _ = await server.app[AUTH].issue("bob", actor="admin", expires_in=timedelta(seconds=-1))
    status, err, _ = await call(server, *SURFACES["mlflow"], token)
    assert status == 401 and err["error_code"] == "UNAUTHENTICATED"


async def test_an_admin_flag_makes_an_admin(secured) -> None:
    server, admin = secured
    _, carol, _ = await call(server, "POST", f"{V1}/tokens", admin,
                             json={"principal": "carol", "admin": True})
    assert (await call(server, "GET", f"{V1}/tokens", carol["token"]))[0] == 200
    for bad in ({"principal": ""}, {"principal": "x", "expires": "soon"}, {"principal": "x",
                                                                          "extra": 1}):
        status, err, _ = await call(server, "POST", f"{V1}/tokens", admin, json=bad)
        assert status == 400, err


async def test_tokens_never_reach_the_log(secured) -> None:
    server, admin = secured
    wrong = admin[:-4] + "AAAA"
    with structlog.testing.capture_logs() as logs:
        await call(server, "POST", f"{V1}/models", admin, json={"name": "unity.default.x"})
        await call(server, *SURFACES["uc"], wrong)
        await call(server, *SURFACES["native"], "not a token at all")
        _, issued, _ = await call(server, "POST", f"{V1}/tokens", admin, json={"principal": "d"})
        await call(server, *SURFACES["mlflow"], issued["token"])
    text = repr(logs)
    requests = [x for x in logs if x["event"] == "request"]
    assert [x["actor"] for x in requests] == ["admin", None, None, "admin", "d"]
    for secret in (admin, wrong, issued["token"], admin[21:], issued["token"][21:]):
        assert secret not in text


async def test_the_admin_token_is_printed_at_the_first_start_only(
        db_url: str, tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    async with serving(db_url, tmp_path, auth="tokens") as server:
        first = BOOTSTRAP.findall(capsys.readouterr().err)
        assert len(first) == 1 and (await call(server, *SURFACES["native"], first[0]))[0] == 200
    async with serving(db_url, tmp_path, auth="tokens") as server:
        assert not BOOTSTRAP.findall(capsys.readouterr().err)
        assert (await call(server, *SURFACES["native"], first[0]))[0] == 200
    async with serving(db_url, tmp_path) as server:  # loopback, no auth: nothing to print
        assert not BOOTSTRAP.findall(capsys.readouterr().err)


async def test_servers_starting_together_make_one_admin(
        db_url: str, tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two replicas' first start at once: one of them creates the admin and prints its token."""
    async with contextlib.AsyncExitStack() as stack:
        servers = await asyncio.gather(*(
            stack.enter_async_context(serving(db_url, tmp_path / str(i), auth="tokens"))
            for i in range(3)))
        printed = BOOTSTRAP.findall(capsys.readouterr().err)
        assert len(printed) == 1
        for server in servers:
            assert (await call(server, *SURFACES["native"], printed[0]))[0] == 200
        _, listed, _ = await call(servers[0], "GET", f"{V1}/tokens", printed[0])
        assert len(listed["tokens"]) == 1


async def test_without_auth_every_request_is_the_local_admin_and_headers_are_ignored(
        db_url: str, tmp_path) -> None:
    async with serving(db_url, tmp_path) as server:
        status, _, _ = await call(server, "POST", f"{V1}/models", "garbage",
                                  headers={"X-Forwarded-User": "mallory"},
                                  json={"name": "unity.default.m"})
        assert status == 201
        assert await actors(server, "model:") == [("ModelCreated", "admin")]


async def test_trusted_header_mode(db_url: str, tmp_path) -> None:
    async with serving(db_url, tmp_path, auth="trusted-header",
                       trusted_header="X-Remote-User") as server:
        await may_create_models(server, "sso-erin")
        status, _, _ = await call(server, "POST", f"{V1}/models",
                                  headers={"X-Remote-User": "sso-erin"},
                                  json={"name": "unity.default.m"})
        assert status == 201
        assert await actors(server, "model:") == [("ModelCreated", "sso-erin")]
        # Not an admin unless the log says so; a bearer token still works without the header.
        assert (await call(server, "GET", f"{V1}/tokens", headers={"X-Remote-User": "sso-erin"}
                           ))[0] == 403
        assert (await call(server, *SURFACES["uc"], headers={"X-Remote-User": "sso\terin"}))[0] == 401
        assert (await call(server, *SURFACES["uc"], headers={"X-Remote-User": "x" * 300}))[0] == 401
        assert (await call(server, *SURFACES["uc"]))[0] == 401
        assert (await call(server, *SURFACES["uc"], headers={"X-Forwarded-User": "sso-erin"}
                           ))[0] == 401


async def test_a_forged_trusted_header_is_ignored_in_tokens_mode(secured) -> None:
    server, admin = secured
    status, _, _ = await call(server, *SURFACES["native"], headers={"X-Forwarded-User": "admin"})
    assert status == 401
    _, frank, _ = await call(server, "POST", f"{V1}/tokens", admin, json={"principal": "frank"})
    await may_create_models(server, "frank")
    status, _, _ = await call(server, "POST", f"{V1}/models", frank["token"],
                              headers={"X-Forwarded-User": "admin"}, json={"name": "unity.default.f"})
    assert status == 201 and await actors(server, "model:") == [("ModelCreated", "frank")]


async def test_a_token_is_looked_up_once_by_many_concurrent_reads(db_url: str, tmp_path,
                                                                   capsys) -> None:
    """The common case costs no round trip: 40 concurrent reads by a fresh token, then 40 more,
    look it up once (each lookup stamps `last_used_at`; a trigger counts those in PostgreSQL), and
    an auth event elsewhere (another token issued) makes the next read look it up again."""
    async with serving(db_url, tmp_path, auth="tokens") as server:
        admin = BOOTSTRAP.findall(capsys.readouterr().err)[0]
        pool = server.app[AUTH].pool
        await pool.execute("""
            CREATE TABLE token_lookups (id text);
            CREATE FUNCTION count_lookup() RETURNS trigger LANGUAGE plpgsql AS
              $$ BEGIN INSERT INTO token_lookups VALUES (NEW.id); RETURN NEW; END $$;
            CREATE TRIGGER count_lookup AFTER UPDATE OF last_used_at ON auth_tokens
              FOR EACH ROW EXECUTE FUNCTION count_lookup();""")
        _, erin, _ = await call(server, "POST", f"{V1}/tokens", admin, json={"principal": "erin"})
        await may_create_models(server, "erin")

        async def lookups() -> int:
            return await pool.fetchval("SELECT count(*) FROM token_lookups WHERE id = $1",
                                       erin["id"])

        headers = {"Authorization": f"Bearer {erin['token']}"}
        async with aiohttp.ClientSession(server.url, headers=headers) as http:
            async def read() -> int:
                async with http.get("/api/2.0/mlflow/registered-models/search") as r:
                    return r.status

            assert await asyncio.gather(*(read() for _ in range(40))) == [200] * 40
            assert await asyncio.gather(*(read() for _ in range(40))) == [200] * 40
            assert await lookups() == 1
            await call(server, "POST", f"{V1}/tokens", admin, json={"principal": "frank"})
            assert await asyncio.gather(*(read() for _ in range(40))) == [200] * 40
            assert await lookups() == 2
