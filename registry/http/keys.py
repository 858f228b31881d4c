"""Typed application state shared by the app factory and the views."""

import asyncio

import asyncpg
from aiohttp import web

from projections.catch_up import Follower
from registry.auth.store import Auth
from registry.domain.principals import Principal
from registry.eventstore import EventStore
from registry.eventstore.log_head import LogHead
from registry.http.loop_lag import LoopLag
from registry.http.outage import Outage
from registry.http.tracking_server import TrackingServer
from registry.reads.cache import ReadCache
from registry.service.handler import RegistryService
from registry.settings import Settings
from registry.storage.vendors import Vendors
from registry.webhooks.dispatcher import Dispatcher
from registry.webhooks.service import Webhooks

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
STORE = web.AppKey("store", EventStore)
SERVICE = web.AppKey("service", RegistryService)
READ_CACHE = web.AppKey("read_cache", ReadCache)
LOG_HEAD = web.AppKey("log_head", LogHead)
FOLLOWERS = web.AppKey("followers", tuple[Follower, ...])
WEBHOOKS = web.AppKey("webhooks", Webhooks)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
LOOP_LAG = web.AppKey("loop_lag", LoopLag)
AUTH = web.AppKey("auth", Auth)
TRACKING = web.AppKey("tracking", TrackingServer)  # only with --tracking-uri
CREDENTIALS = web.AppKey("credentials", Vendors)  # temporary credentials for version files
OUTAGE = web.AppKey("outage", Outage)  # the database's, while it lasts
FEEDS_CLOSING = web.AppKey("feeds_closing", asyncio.Event)  # set on shutdown: event streams end

REQUEST_ID = web.RequestKey("request_id", str)
ACTOR = web.RequestKey("actor", str)  # the principal's name: every event's metadata.actor
PRINCIPAL = web.RequestKey("principal", Principal)
AS_OF_POSITION = web.RequestKey("as_of_position", int)  # a request's `as_of`, resolved once
COMMAND = web.RequestKey("command", str)
