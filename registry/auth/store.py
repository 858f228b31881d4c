"""Principals and tokens, the imperative shell: issue and revoke (events in the log, hashes aside),
list, and find who a presented token belongs to.

A token's hash is written to `auth_tokens` before the TokenIssued event (the two cannot share the
writer's statement); if the append then fails, the log never names the token and it is refused.
"""

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import structlog

from registry.auth import tokens
from registry.auth.cache import TtlCache
from registry.auth.tokens import Token
from registry.domain import events as ev
from registry.domain import principals as p
from registry.domain import streams
from registry.domain.events import parse_event
from registry.domain.principals import ADMIN, IssuedToken, Principal
from registry.eventstore import EventStore, NewEvent, RecordedEvent, Tx
from registry.eventstore.domain_events import stamp
from registry.eventstore.log_head import LogHead
from registry.eventstore.reads import COLUMNS, from_row

log = structlog.get_logger(__name__)
_BOOTSTRAP_LOCK = 7173747472  # the writer lock is 7173747470, the migrations 7173747471
AUTH_STREAMS = "(stream_id LIKE 'principal:%' OR stream_id LIKE 'token:%')"  # as index events_auth


@dataclass(frozen=True)
class Directory:
    """Every principal and token, folded from their streams."""

    principals: dict[str, Principal]
    tokens: dict[str, IssuedToken]


@dataclass(frozen=True)
class Credential:
    principal: Principal
    token: IssuedToken
    secret_hash: bytes


def fold(events: Sequence[RecordedEvent]) -> Directory:
    found = Directory({}, {})
    for r in events:
        kind, key = streams.parse(r.stream_id)
        e = r.event or parse_event(r.type, r.schema_version, r.data)
        if kind == "principal":
            state = p.evolve_principal(found.principals.get(key), e)
            if state is not None:
                found.principals[key] = state
        elif kind == "token":
            token = p.evolve_token(found.tokens.get(key), e, stamp(r))
            if token is not None:
                found.tokens[key] = token
    return found


async def directory(db: asyncpg.Pool | asyncpg.Connection, streams: Sequence[str] | None = None
                    ) -> Directory:
    """All of it (through the partial index events_auth), or just these streams."""
    if streams is None:
        rows = await db.fetch(f"SELECT {COLUMNS} FROM events WHERE {AUTH_STREAMS} ORDER BY position")
    else:
        rows = await db.fetch(f"SELECT {COLUMNS} FROM events WHERE stream_id = ANY($1::text[]) "
                              "ORDER BY position", list(streams))
    return fold([from_row(r) for r in rows])


async def last_used(db: asyncpg.Pool | asyncpg.Connection) -> dict[str, datetime]:
    rows = await db.fetch("SELECT id, last_used_at FROM auth_tokens WHERE last_used_at IS NOT NULL")
    return {r["id"]: r["last_used_at"] for r in rows}


class Auth:
    def __init__(self, store: EventStore, cache_seconds: float = 10.0) -> None:
        self.store = store
        self.cache = TtlCache(cache_seconds)
        self._follower: asyncio.Task[None] | None = None

    def follow(self, head: LogHead) -> None:
        """Clear the cache soon after any process issues or revokes (the TTL is the backstop)."""
        self._follower = asyncio.create_task(self._follow(head))

    async def stop(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower

    async def _follow(self, head: LogHead) -> None:
        # The head moves on every commit, ours or PostgreSQL's notification of another process's;
        # the partial index events_auth says cheaply whether an auth event is among them.
        seen = head.position
        while True:
            if not await head.wait_past(seen, 30.0):
                continue
            now = head.position
            try:
                changed = await self.pool.fetchval(
                    f"SELECT EXISTS (SELECT 1 FROM events WHERE position > $1 AND position <= $2 "
                    f"AND {AUTH_STREAMS})", seen, now)
            except (OSError, asyncpg.PostgresError):
                log.warning("auth cache could not check the log; entries expire by age only")
                await asyncio.sleep(1)
                continue
            if changed:
                self.cache.clear()
            seen = now

    @property
    def pool(self) -> asyncpg.Pool:
        return self.store.pool

    async def issue(self, principal: str, *, actor: str, expires_in: timedelta | None = None,
                    admin: bool | None = None, **metadata: Any) -> tuple[Token, IssuedToken]:
        """A new token for `principal` (created if new); the token text exists only in the answer."""
        token = tokens.new()
        expires_at = None if expires_in is None else datetime.now(UTC) + expires_in
        p.issue(None, principal, token.id, expires_at, admin)  # refuse bad input before storing
        await self.pool.execute(
            "INSERT INTO auth_tokens (id, principal, secret_hash) VALUES ($1, $2, $3)",
            token.id, principal, tokens.digest(token.secret))
        streams = (p.principal_stream(principal), p.token_stream(token.id))
        meta = _metadata("IssueToken", actor, metadata)

        async def job(tx: Tx) -> IssuedToken:
            state = fold(await tx.read_stream(streams[0])).principals.get(principal)
            before, issued = p.issue(state, principal, token.id, expires_at, admin)
            await tx.append(streams[0], await tx.version(streams[0]), _new(before), meta)
            recorded = await tx.append(streams[1], 0, _new([issued]), meta)
            return p.evolve_token(None, issued, stamp(recorded[-1]))

        issued = await self.store.transact(job)
        self.cache.clear()  # the principal's admin flag may have changed; issues are rare
        return token, issued

    async def revoke(self, token_id: str, *, actor: str, **metadata: Any) -> IssuedToken:
        if (whole := tokens.parse(token_id)) is not None:  # given the token itself: never echo it
            token_id = whole.id
        stream = p.token_stream(token_id)
        meta = _metadata("RevokeToken", actor, metadata)

        async def job(tx: Tx) -> IssuedToken:
            state = fold(await tx.read_stream(stream)).tokens.get(token_id)
            decided = p.revoke(state, token_id)
            if decided is None:
                return state
            recorded = await tx.append(stream, await tx.version(stream), _new([decided]), meta)
            return p.evolve_token(state, decided, stamp(recorded[-1]))

        revoked = await self.store.transact(job)
        self.cache.clear()
        return revoked

    async def authenticate(self, token: Token) -> Principal | None:
        """The principal a presented token stands for, or None (unknown, wrong, revoked, expired)."""
        found: Credential | None = await self.cache.get(("token", token.id),
                                                       lambda: self._credential(token))
        if found is None or not tokens.verify(token, found.secret_hash):
            return None
        return found.principal if found.token.valid_at(datetime.now(UTC)) else None

    async def _credential(self, token: Token) -> Credential | None:
        row = await self.pool.fetchrow(
            "SELECT principal, secret_hash FROM auth_tokens WHERE id = $1", token.id)
        if row is None or not tokens.verify(token, row["secret_hash"]):
            return None  # not cached: only a holder of the secret puts an entry in
        name = row["principal"]
        found = await directory(self.pool, [p.principal_stream(name), p.token_stream(token.id)])
        issued = found.tokens.get(token.id)
        if issued is None or issued.principal != name:  # its event failed: never issued
            return None
        await self.pool.execute("UPDATE auth_tokens SET last_used_at = now() WHERE id = $1", token.id)
        return Credential(found.principals.get(name, Principal(name, False)), issued,
                          row["secret_hash"])

    async def principal(self, name: str) -> Principal:
        """A principal named by a trusted proxy: as the log knows it, else a new non-admin."""
        p.check_name(name)
        return await self.cache.get(("principal", name), lambda: self._principal(name))

    async def _principal(self, name: str) -> Principal:
        found = await directory(self.pool, [p.principal_stream(name)])
        return found.principals.get(name, Principal(name, False))

    async def bootstrap(self) -> Token | None:
        """On the first start with authentication, an admin and its token, if there is no admin.
        Servers starting together take turns (a session lock), so only one of them makes it."""
        async with self.pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", _BOOTSTRAP_LOCK)
            try:
                if any(x.admin for x in (await directory(conn)).principals.values()):
                    return None
                token, _ = await self.issue(ADMIN, actor=ADMIN, admin=True,
                                            client="modelog-bootstrap")
                return token
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", _BOOTSTRAP_LOCK)


def _new(events: Sequence[ev.Event]) -> list[NewEvent]:
    return [NewEvent(e.type_name(), e.payload(), e.schema_version, e) for e in events]


def _metadata(command: str, actor: str, given: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in {"actor": actor, "command": command, **given}.items() if v is not None}
