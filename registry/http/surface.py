"""An API surface as an aiohttp sub-application: its own error format and its own way of telling
who a request is, so the main application never branches on paths."""

import functools
from collections.abc import Iterable

from aiohttp import web

from registry.http.authenticate import authenticate
from registry.http.cross_site import refuse_cross_site_writes
from registry.http.failures import Format, Handler, Middleware, answering


def surface(format_: Format, identified_by: Middleware = authenticate) -> web.Application:
    return web.Application(middlewares=[answering(format_), refuse_cross_site_writes,
                                        identified_by])


def through(middlewares: Iterable[Middleware], handler: Handler) -> Handler:
    """`handler` behind a sub-application's middlewares, for a route outside its prefix."""
    for middleware in reversed(list(middlewares)):
        handler = functools.partial(middleware, handler=handler)
    return handler
