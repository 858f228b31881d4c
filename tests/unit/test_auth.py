"""Authentication, pure: tokens (parsing, hiding the secret, timing-safe checks), principals and
token expiry, the auth modes a configuration gives, and the token cache."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from registry.auth import tokens
from registry.auth.cache import TtlCache
from registry.domain import events as ev
from registry.domain import principals as p
from registry.domain.errors import InvalidArgument, NotFound
from registry.settings import Settings
from tests.support.server import BOOTSTRAP


def test_a_token_round_trips_and_hides_its_secret() -> None:
    t = tokens.new()
    assert tokens.parse(str(t)) == t and BOOTSTRAP.fullmatch(str(t))
    assert t.secret not in repr(t)
    assert tokens.bearer(f"Bearer {t}") == t and tokens.bearer(f"bearer  {t} ") == t


@pytest.mark.parametrize("header", [
    None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token mlg_x", "Bearer mlg_",
    "Bearer mlg_0123456789abcdef_short", "Bearer mlg_0123456789ABCDEF_" + "a" * 43,
    "Bearer " + "A" * 10_000, "Bearer mlg_0123456789abcdef_" + "é" * 43, "Bearer \x00",
])
def test_odd_authorization_headers_are_not_tokens(header: str | None) -> None:
    assert tokens.bearer(header) is None


def test_verification_is_timing_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    t = tokens.new()
    stored = tokens.digest(t.secret)
    calls: list[tuple[bytes, bytes]] = []
    real = tokens.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(tokens.hmac, "compare_digest", spy)
    wrong = tokens.Token(t.id, t.secret[:-1] + ("A" if t.secret[-1] != "A" else "B"))
    assert len(wrong.secret) == len(t.secret)
    assert not tokens.verify(wrong, stored) and tokens.verify(t, stored)
    assert len(calls) == 2 and all(b == stored for _, b in calls)


def test_issue_creates_the_principal_once_and_changes_admin_only_when_asked() -> None:
    before, issued = p.issue(None, "alice", "t1", None, None)
    assert before == [ev.PrincipalCreated(name="alice", admin=False)]
    assert issued == ev.TokenIssued(token_id="t1", principal="alice")
    alice = p.Principal("alice", False)
    assert p.issue(alice, "alice", "t2", None, None)[0] == []
    assert p.issue(alice, "alice", "t2", None, True)[0] == [ev.PrincipalAdminSet(admin=True)]
    for bad in ("", " alice", "a\nb", "x" * 257):
        with pytest.raises(InvalidArgument):
            p.issue(None, bad, "t", None, None)


def test_revoke_and_expiry() -> None:
    with pytest.raises(NotFound):
        p.revoke(None, "t1")
    now = datetime.now(UTC)
    t = p.IssuedToken("t1", "alice", now, "admin", now + timedelta(days=1))
    assert p.revoke(t, "t1") == ev.TokenRevoked(token_id="t1")
    gone = p.evolve_token(t, ev.TokenRevoked(token_id="t1"), ev.Stamp(at=now, actor="admin"))
    assert p.revoke(gone, "t1") is None and not gone.valid_at(now)
    assert t.valid_at(now) and not t.valid_at(now + timedelta(days=2))
    assert p.parse_duration("30d") == timedelta(days=30) and p.parse_duration("90m").seconds == 5400
    for bad in ("0d", "30", "d", "1w", "-1d", "1" * 10 + "d"):
        with pytest.raises(InvalidArgument):
            p.parse_duration(bad)


def test_modes() -> None:
    assert Settings().auth_mode == "none"
    assert Settings(host="localhost").auth_mode == "none" and Settings(host="::1").auth_mode == "none"
    assert Settings(host="0.0.0.0").auth_mode == "tokens"
    assert Settings(host="example.internal").auth_mode == "tokens"
    assert Settings(host="0.0.0.0", insecure_no_auth=True).auth_mode == "none"
    assert Settings(auth="tokens").auth_mode == "tokens"
    assert Settings(auth="trusted-header").auth_mode == "trusted-header"


async def test_the_cache_expires_and_keeps_no_misses() -> None:
    now = [0.0]
    cache = TtlCache(10, clock=lambda: now[0])
    loads: list[str] = []

    async def load(value: str | None) -> str | None:
        loads.append(str(value))
        return value

    assert await cache.get("k", lambda: load("a")) == "a"
    assert await cache.get("k", lambda: load("b")) == "a"
    now[0] = 11
    assert await cache.get("k", lambda: load("b")) == "b"
    assert await cache.get("x", lambda: load(None)) is None
    assert await cache.get("x", lambda: load("c")) == "c"
    assert loads == ["a", "b", "None", "c"]

    async def raced() -> str:  # a revocation's clear lands while this load reads the old state
        cache.clear()
        return "stale"

    assert await cache.get("r", raced) == "stale"
    assert await cache.get("r", lambda: load("fresh")) == "fresh"


async def test_concurrent_misses_share_one_load_and_a_clear_starts_afresh() -> None:
    cache = TtlCache(10)
    loads: list[str] = []
    gate = asyncio.Event()

    async def load(value: str) -> str:
        loads.append(value)
        await gate.wait()
        return value

    waiting = [asyncio.create_task(cache.get("k", lambda: load("a"))) for _ in range(16)]
    await asyncio.sleep(0)
    waiting[0].cancel()  # one caller gone (a client hung up) fails none of the others
    gate.set()
    assert [await t for t in waiting[1:]] == ["a"] * 15 and loads == ["a"]

    gate.clear()
    cache.clear()
    before = asyncio.create_task(cache.get("k", lambda: load("old")))
    await asyncio.sleep(0)
    cache.clear()  # a revocation lands while "old" is being read: later callers do not join it
    after = asyncio.create_task(cache.get("k", lambda: load("new")))
    await asyncio.sleep(0)
    gate.set()
    assert (await before, await after) == ("old", "new")
    assert await cache.get("k", lambda: load("unused")) == "new"

    uncached = TtlCache(0)  # no lifetime: each check loads afresh, even concurrent ones
    await asyncio.gather(*(uncached.get("k", lambda: load("z")) for _ in range(3)))
    assert loads.count("z") == 3
