"""The aiohttp application: factory, shared state, middlewares, health."""

import asyncio
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import pydantic
import structlog
from aiohttp import web

import projections
from projections.catch_up import Follower
from registry.auth.store import Auth
from registry.domain.errors import DomainError, PermissionDenied
from registry.eventstore import EventStore, WriterStopped
from registry.eventstore.database import create_pool, migrate
from registry.eventstore.embedded import embedded_postgres
from registry.eventstore.log_head import LogHead
from registry.http import authorize, errors, mlflow, permissions, unity_catalog
from registry.http.authenticate import authenticate
from registry.http.cross_site import refuse_cross_site_writes
from registry.http.keys import (
    ACTOR,
    AUTH,
    COMMAND,
    DISPATCHER,
    FOLLOWERS,
    LOG_HEAD,
    POOL,
    READ_CACHE,
    REQUEST_ID,
    SERVICE,
    SETTINGS,
    STORE,
    WEBHOOKS,
)
from registry.http.mlflow import PREFIXES as MLFLOW_PREFIXES
from registry.http.native import audit, history, tokens, webhooks
from registry.http.native import feed as events_feed
from registry.http.native import views as native
from registry.http.ui import routes as web_ui
from registry.http.wire import json_response
from registry.reads.cache import ReadCache
from registry.service.handler import RegistryService
from registry.service.write_model import RegistryWriteModel
from registry.service.write_model_sync import WriteModelSync
from registry.settings import Settings
from registry.webhooks.dispatcher import Dispatcher
from registry.webhooks.service import Webhooks

log = structlog.get_logger("modelog.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# A client's request id goes into the log and every event it causes, so only a short plain one is
# kept; another (e.g. bytes that were not UTF-8, which reach us as lone surrogates that neither the
# log nor PostgreSQL can encode, failing the whole write batch) is replaced by our own.
_REQUEST_ID = re.compile(r"[\w.:/+=-]{1,128}", re.ASCII)
_SURROGATE = re.compile("[\ud800-\udfff]")


@web.middleware
async def request_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One line per request: id, actor, route, command, status, latency."""
    request_id = request.headers.get("X-Request-Id", "")
    if not _REQUEST_ID.fullmatch(request_id):
        request_id = uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers["X-Request-Id"] = request_id
        return response
    finally:
        route = request.match_info.route.resource
        log.info(
            "request", request_id=request_id, actor=request.get(ACTOR), method=request.method,
            route=route.canonical if route is not None else request.path, status=status,
            command=request.get(COMMAND),
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
        )


@web.middleware
async def error_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure becomes a JSON error with the right status; a 500 never shows internals."""
    try:
        if any("\x00" in v for v in request.match_info.values()):
            # PostgreSQL text cannot hold NUL, so no object is named so; a query would fail.
            raise errors.ApiError(404, "NOT_FOUND", "no object has a name containing NUL")
        if any(not v.isascii() and _SURROGATE.search(v) for v in request.headers.values()):
            # Not UTF-8 (see _REQUEST_ID): the User-Agent is kept in events' metadata, too.
            raise errors.ApiError(400, "INVALID_ARGUMENT", "a request header is not valid UTF-8")
        return await handler(request)
    except errors.ApiError as exc:
        err = exc
    except PermissionDenied as exc:
        err = errors.from_domain(exc)
        await authorize.record_refusal(request, exc)
    except DomainError as exc:
        err = errors.from_domain(exc)
    except pydantic.ValidationError as exc:
        err = errors.from_validation(exc)
    except WriterStopped:
        err = errors.ApiError(503, "UNAVAILABLE", "the server is not accepting writes right now "
                              "(shutting down); retry")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        err = errors.from_http(exc)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error", request_id=request.get(REQUEST_ID))
        err = errors.ApiError(500, "INTERNAL_ERROR", "internal error; see the server log for "
                              f"request {request.get(REQUEST_ID)}")
    if request.path.startswith(MLFLOW_PREFIXES):
        response = errors.mlflow_response(err, request.get(REQUEST_ID))
    elif request.path.startswith(unity_catalog.PREFIX + "/"):
        response = errors.uc_response(err, request.get(REQUEST_ID))
    else:
        response = errors.response(err, request.get(REQUEST_ID))
    if response.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="modelog"'
    return response


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    try:
        async with asyncio.timeout(2):
            head = await request.app[POOL].fetchval("SELECT coalesce(max(position), 0) FROM events")
    except Exception as exc:
        return json_response({"status": "unavailable", "database": repr(exc)}, status=503)
    if not request.app[STORE].writer.running:
        return json_response({"status": "unavailable", "writer": "stopped"}, status=503)
    followers = request.app[FOLLOWERS]
    lagging = {f.projection.name: {"position": f.position, "lag": max(0, head - f.position),
                                   "running": f.running} for f in followers}
    dispatching = request.app[DISPATCHER].running
    ok = dispatching and all(f.running for f in followers)
    return json_response({"status": "ready" if ok else "unavailable", "database": "ok",
                          "writer": "running", "log_head": head, "projections": lagging,
                          "webhook_dispatcher": "running" if dispatching else "stopped"},
                         status=200 if ok else 503)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format: the log head, catch-up lag, writer and read-cache counters."""
    app = request.app
    writer, cache = app[STORE].writer, app[READ_CACHE]
    lines = [
        "# TYPE modelog_log_head_position gauge",
        f"modelog_log_head_position {app[LOG_HEAD].position}",
        "# TYPE modelog_events_appended_total counter",
        f"modelog_events_appended_total {writer.committed}",
        "# TYPE modelog_write_batches_total counter",
        f"modelog_write_batches_total {writer.batches}",
        "# TYPE modelog_read_cache_hits_total counter",
        f"modelog_read_cache_hits_total {cache.hits}",
        "# TYPE modelog_read_cache_misses_total counter",
        f"modelog_read_cache_misses_total {cache.misses}",
        "# TYPE modelog_projection_position gauge",
        *(f'modelog_projection_position{{projection="{f.projection.name}"}} {f.position}'
          for f in app[FOLLOWERS]),
        "# TYPE modelog_projection_lag_events gauge",
        *(f'modelog_projection_lag_events{{projection="{f.projection.name}"}} {f.lag}'
          for f in app[FOLLOWERS]),
        "# TYPE modelog_projection_failures_total counter",
        *(f'modelog_projection_failures_total{{projection="{f.projection.name}"}} {f.failures}'
          for f in app[FOLLOWERS]),
        "# TYPE modelog_webhook_attempts_total counter",
        f"modelog_webhook_attempts_total {app[DISPATCHER].attempts}",
        "# TYPE modelog_webhook_deliveries_total counter",
        f'modelog_webhook_deliveries_total{{outcome="delivered"}} {app[DISPATCHER].delivered}',
        f'modelog_webhook_deliveries_total{{outcome="failed"}} {app[DISPATCHER].failed}',
    ]
    return web.Response(text="\n".join(lines) + "\n",
                        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


def create_app(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=settings.max_body_bytes,
                          middlewares=[request_log, error_json, refuse_cross_site_writes,
                                       authenticate])
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_registry)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    native.add_routes(app)
    history.add_routes(app)
    audit.add_routes(app)
    events_feed.add_routes(app)
    webhooks.add_routes(app)
    tokens.add_routes(app)
    mlflow.add_routes(app)
    unity_catalog.add_routes(app)
    permissions.add_routes(app, native.PREFIX, native=True)
    permissions.add_routes(app, unity_catalog.PREFIX, native=False)
    web_ui.add_routes(app)  # `/` and `/ui/`: the web UI (registry/http/ui/)
    return app


async def _registry(app: web.Application) -> AsyncIterator[None]:
    """Database (embedded unless a URL is given), migrations, event store, bootstrap."""
    settings = app[SETTINGS]
    async with AsyncExitStack() as stack:
        url = settings.database_url or await stack.enter_async_context(
            embedded_postgres(settings.data_dir))
        pool = await create_pool(url, max_size=settings.pool_size)
        stack.push_async_callback(pool.close)
        async with pool.acquire() as conn:
            await migrate(conn)
        write_model = RegistryWriteModel()
        store = EventStore(pool, projections.inline_projector(), write_model)
        await store.start()
        stack.push_async_callback(store.close)
        service = RegistryService(store, write_model)
        await service.bootstrap()
        cache, head = ReadCache(), LogHead()
        store.writer.on_commit.append(cache.committed)
        store.writer.on_commit.append(head.advance)
        await head.listen(pool)
        stack.push_async_callback(head.close)
        cache.follow(head)
        followers = tuple(Follower(pool, p, head) for p in projections.catch_up_projections())
        for follower in followers:
            await follower.start()
            stack.push_async_callback(follower.stop)
        dispatcher = Dispatcher(pool, timeout=settings.webhook_timeout, backoff=settings.webhook_backoff,
                                backoff_cap=settings.webhook_backoff_cap,
                                max_attempts=settings.webhook_max_attempts,
                                retention=settings.webhook_retention_days * 86400)
        await dispatcher.start()
        stack.push_async_callback(dispatcher.stop)
        app[POOL], app[STORE], app[SERVICE], app[READ_CACHE] = pool, store, service, cache
        app[LOG_HEAD], app[FOLLOWERS] = head, followers
        app[WEBHOOKS], app[DISPATCHER] = Webhooks(store), dispatcher
        app[AUTH] = auth = await _auth(settings, store)
        if settings.auth_mode != "none":
            auth.follow(head)
            stack.push_async_callback(auth.stop)
            sync = WriteModelSync(store, head)  # only non-admins' checks need it
            await sync.start()
            stack.push_async_callback(sync.stop)
        yield


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
