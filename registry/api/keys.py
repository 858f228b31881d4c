"""Typed application state shared by the app factory and the views."""

import asyncpg
from aiohttp import web

from projections.catch_up import Follower

from ..eventstore import EventStore
from ..log_head import LogHead
from ..read_cache import ReadCache
from ..service import RegistryService
from ..settings import Settings

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
STORE = web.AppKey("store", EventStore)
SERVICE = web.AppKey("service", RegistryService)
READ_CACHE = web.AppKey("read_cache", ReadCache)
LOG_HEAD = web.AppKey("log_head", LogHead)
FOLLOWERS = web.AppKey("followers", tuple[Follower, ...])

REQUEST_ID = web.RequestKey("request_id", str)
ACTOR = web.RequestKey("actor", str)
COMMAND = web.RequestKey("command", str)
