"""The composition root: the one place the registry's parts are built and wired, for the server,
the command line, the tests and the benchmarks alike.

- `database`: the PostgreSQL to use (the embedded one under the data dir unless a URL is given);
- `migrated_pool`: a connection pool on it, with the migrations applied;
- `writing`: the write side on a pool (event store with its inline projections, write model,
  command service), for anything that appends;
- `registry`: everything the server runs (the above, the read cache and log head, catch-up
  projections, webhook dispatcher, authentication and the write model's sync).
"""

import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import structlog

import projections
from projections.catch_up import Follower
from registry.auth.store import Auth
from registry.domain.mlflow_webhooks import UrlPolicy
from registry.eventstore import EventStore
from registry.eventstore.database import create_pool, migrate
from registry.eventstore.embedded import embedded_postgres
from registry.eventstore.log_head import LogHead
from registry.memory import shares
from registry.reads.cache import ReadCache
from registry.service.handler import RegistryService
from registry.service.write_model import DEFAULT_BUDGET as DEFAULT_WRITE_MODEL
from registry.service.write_model import RegistryWriteModel
from registry.service.write_model_sync import WriteModelSync
from registry.settings import Settings
from registry.webhooks.dispatcher import Dispatcher
from registry.webhooks.service import Webhooks

log = structlog.get_logger("modelog")


@asynccontextmanager
async def database(url: str | None, data_dir: Path) -> AsyncIterator[str]:
    if url:
        yield url
        return
    async with embedded_postgres(data_dir) as embedded:
        yield embedded


@asynccontextmanager
async def migrated_pool(url: str, *, min_size: int = 1, max_size: int = 4
                        ) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(url, min_size=min_size, max_size=max_size)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        yield pool
    finally:
        await pool.close()


@dataclass(frozen=True)
class Writing:
    store: EventStore
    write_model: RegistryWriteModel
    service: RegistryService


@asynccontextmanager
async def writing(pool: asyncpg.Pool, *, bootstrap: bool = False,
                  workspace: str | None = None, shared: bool = False,
                  memory: int = DEFAULT_WRITE_MODEL) -> AsyncIterator[Writing]:
    """The write side on `pool`; `bootstrap`: make sure the default catalog and schema exist;
    `workspace`: MLflow's workspace schema, which may not be renamed; `memory`: the bytes the write
    model may hold; `shared`: other processes write to the same log all along."""
    write_model = RegistryWriteModel(memory)
    store = EventStore(pool, projections.inline_projector(), write_model, always_locked=shared,
                       version_cache=memory // 8)  # the share RegistryWriteModel leaves it
    await store.start()
    try:
        service = RegistryService(store, write_model, workspace)
        if bootstrap:
            await service.bootstrap()
        yield Writing(store, write_model, service)
    finally:
        await store.close()


@dataclass(frozen=True)
class Registry:
    pool: asyncpg.Pool
    store: EventStore
    service: RegistryService
    cache: ReadCache
    head: LogHead
    followers: tuple[Follower, ...]
    dispatcher: Dispatcher
    webhooks: Webhooks
    auth: Auth


@asynccontextmanager
async def registry(settings: Settings) -> AsyncIterator[Registry]:
    """Everything the server runs, started in order and stopped in reverse."""
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(database(settings.database_url, settings.data_dir))
        pool = await stack.enter_async_context(
            migrated_pool(url, min_size=2, max_size=settings.pool_size))
        write_model_memory, read_cache_memory = shares(settings.memory)
        w = await stack.enter_async_context(
            writing(pool, bootstrap=True, workspace=settings.default_schema,
                    shared=settings.workers > 1, memory=write_model_memory))
        cache, head = ReadCache(read_cache_memory), LogHead()
        w.store.writer.on_commit.append(cache.committed)
        w.store.writer.on_commit.append(lambda position, _: head.advance(position))
        await head.listen(pool)
        stack.push_async_callback(head.close)
        cache.follow(head)
        followers = tuple(Follower(pool, p, head) for p in projections.catch_up_projections())
        for follower in followers:
            await follower.start()
            stack.push_async_callback(follower.stop)
        mlflow_urls = UrlPolicy(settings.mlflow_webhook_schemes,
                                settings.mlflow_webhook_allow_private_ips)
        dispatcher = Dispatcher(pool, timeout=settings.webhook_timeout,
                                backoff=settings.webhook_backoff,
                                backoff_cap=settings.webhook_backoff_cap,
                                max_attempts=settings.webhook_max_attempts,
                                retention=settings.webhook_retention_days * 86400,
                                mlflow_urls=mlflow_urls)
        await dispatcher.start()
        stack.push_async_callback(dispatcher.stop)
        auth = await _auth(settings, w.store)
        if settings.auth_mode != "none":
            auth.follow(head)
            stack.push_async_callback(auth.stop)
            # Only non-admins' read checks need it.
            sync = WriteModelSync(w.store, head, w.write_model)
            await sync.start()
            stack.push_async_callback(sync.stop)
        yield Registry(pool, w.store, w.service, cache, head, followers, dispatcher,
                       Webhooks(w.store, mlflow_urls), auth)


async def _auth(settings: Settings, store: EventStore) -> Auth:
    """Say which mode the server is in; on the first start with authentication, make an admin."""
    auth = Auth(store, settings.auth_cache_seconds)
    mode = settings.auth_mode
    if mode == "none":
        log.warning("authentication is off: every request acts as the local admin",
                    host=settings.host, hint="bind a non-loopback --host, or pass --auth tokens")
        return auth
    log.info("authentication on", mode=mode, open_paths="/healthz /readyz /metrics",
             trusted_header=settings.trusted_header if mode == "trusted-header" else None)
    token = await auth.bootstrap()
    if token is not None:  # on stderr, once, and never through the log, which may be shipped
        print(f"modelog: created the admin principal 'admin'. Its token, shown only this once:\n"
              f"    {token}\n", file=sys.stderr, flush=True)
    return auth
