"""The aiohttp application: factory, shared state, middlewares, health."""

import asyncio
import gc
import re
import time
import uuid
from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from registry import bootstrap
from registry.http import errors, mlflow, native, parse_errors, unity_catalog
from registry.http.failures import Handler, answering
from registry.http.keys import (
    ACTOR,
    AUTH,
    COMMAND,
    CREDENTIALS,
    DISPATCHER,
    FOLLOWERS,
    LOG_HEAD,
    LOOP_LAG,
    OUTAGE,
    POOL,
    READ_CACHE,
    REQUEST_ID,
    SERVICE,
    SETTINGS,
    STORE,
    TRACKING,
    WEBHOOKS,
)
from registry.http.loop_lag import LoopLag
from registry.http.native import app as native_app
from registry.http.outage import RETRY_AFTER, Outage, database_gone
from registry.http.tracking_server import tracking_server
from registry.http.ui import routes as ui
from registry.http.wire import json_response
from registry.settings import Settings
from registry.storage import vendors

log = structlog.get_logger("modelog.http")

# A client's request id goes into the log and every event it causes, so only a short plain one is
# kept; another (e.g. bytes that were not UTF-8, which reach us as lone surrogates that neither the
# log nor PostgreSQL can encode, failing the whole write batch) is replaced by our own.
_REQUEST_ID = re.compile(r"[\w.:/+=-]{1,128}", re.ASCII)


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


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    try:
        async with asyncio.timeout(2):
            head = await request.config_dict[POOL].fetchval("SELECT coalesce(max(position), 0) FROM events")
    except Exception as exc:
        # What kind of failure, not its repr: a probe's answer is read by people and dashboards.
        reason = "unreachable" if database_gone(exc) else \
            "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
        response = json_response({"status": "unavailable", "database": reason}, status=503)
        response.headers["Retry-After"] = RETRY_AFTER
        return response
    if not request.config_dict[STORE].writer.running:
        return json_response({"status": "unavailable", "writer": "stopped"}, status=503)
    followers = request.config_dict[FOLLOWERS]
    lagging = {f.projection.name: {"position": f.position, "lag": max(0, head - f.position),
                                   "running": f.running} for f in followers}
    dispatching = request.config_dict[DISPATCHER].running
    ok = dispatching and all(f.running for f in followers)
    return json_response({"status": "ready" if ok else "unavailable", "database": "ok",
                          "writer": "running", "log_head": head, "projections": lagging,
                          "webhook_dispatcher": "running" if dispatching else "stopped"},
                         status=200 if ok else 503)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format: the log head, catch-up lag, writer and read-cache counters, and
    what the process holds against its memory budget."""
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
        "# TYPE modelog_read_cache_bytes gauge",  # estimated (registry/memory.py)
        f"modelog_read_cache_bytes {cache.held}",
        "# TYPE modelog_write_model_bytes gauge",
        f"modelog_write_model_bytes {app[SERVICE].write_model.held_bytes()}",
        "# TYPE modelog_projection_position gauge",
        *(f'modelog_projection_position{{projection="{f.projection.name}"}} {f.position}'
          for f in app[FOLLOWERS]),
        "# TYPE modelog_projection_lag_events gauge",
        *(f'modelog_projection_lag_events{{projection="{f.projection.name}"}} {f.lag}'
          for f in app[FOLLOWERS]),
        "# TYPE modelog_projection_failures_total counter",
        *(f'modelog_projection_failures_total{{projection="{f.projection.name}"}} {f.failures}'
          for f in app[FOLLOWERS]),
        "# TYPE modelog_event_loop_lag_max_seconds gauge",
        f"modelog_event_loop_lag_max_seconds {app[LOOP_LAG].worst:.6f}",
        "# TYPE modelog_event_loop_lag_recent_max_seconds gauge",  # since the last scrape
        f"modelog_event_loop_lag_recent_max_seconds {app[LOOP_LAG].take_recent():.6f}",
        "# TYPE modelog_event_loop_stalls_total counter",  # wake-ups more than 20 ms late
        f"modelog_event_loop_stalls_total {app[LOOP_LAG].stalls}",
        "# TYPE modelog_webhook_attempts_total counter",
        f"modelog_webhook_attempts_total {app[DISPATCHER].attempts}",
        "# TYPE modelog_webhook_deliveries_total counter",
        f'modelog_webhook_deliveries_total{{outcome="delivered"}} {app[DISPATCHER].delivered}',
        f'modelog_webhook_deliveries_total{{outcome="failed"}} {app[DISPATCHER].failed}',
    ]
    return web.Response(text="\n".join(lines) + "\n",
                        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


def create_app(settings: Settings) -> web.Application:
    """The main application: the request log, health and metrics, the registry's lifetime; each
    surface is a sub-application with its own error format and authentication."""
    parse_errors.install()
    app = web.Application(client_max_size=settings.max_body_bytes,
                          middlewares=[request_log, answering(errors.response)])
    app[SETTINGS] = settings
    app[OUTAGE] = Outage()
    app[CREDENTIALS] = vendors.configured(settings)  # ValueError: a root that cannot be served
    app.cleanup_ctx.append(_registry)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.add_subapp(native.PREFIX, native_app.create_app())
    for prefix in mlflow.PREFIXES:
        app.add_subapp(prefix, mlflow.create_app())
    app.add_subapp(unity_catalog.PREFIX, unity_catalog.create_app())
    ui.add_to(app)  # `/` and `/ui/`: the web UI (registry/http/ui/)
    return app


async def _registry(app: web.Application) -> AsyncIterator[None]:
    """The registry's parts (registry/bootstrap.py) for the application's lifetime."""
    async with (bootstrap.registry(app[SETTINGS]) as r,
                tracking_server(app[SETTINGS].tracking_uri) as tracking):
        if tracking is not None:
            app[TRACKING] = tracking
        app[POOL], app[STORE], app[SERVICE], app[READ_CACHE] = r.pool, r.store, r.service, r.cache
        app[LOG_HEAD], app[FOLLOWERS] = r.head, r.followers
        app[WEBHOOKS], app[DISPATCHER], app[AUTH] = r.webhooks, r.dispatcher, r.auth
        app[LOOP_LAG] = lag = LoopLag()
        lag.start()
        # What start-up made (modules, the write model's index) lives as long as the process:
        # kept out of the collector's full passes, which would otherwise walk it every time.
        gc.freeze()
        yield
        await app[OUTAGE].close()
        await lag.stop()
