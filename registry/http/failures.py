"""Every failure as an answer in its surface's own error format (`answering(format)`), with the
right status; a 500 never shows internals. Each surface's sub-application installs its own."""

import asyncio
import re
from collections.abc import Awaitable, Callable

import pydantic
import structlog
from aiohttp import web

from registry.domain.errors import DomainError, PermissionDenied
from registry.eventstore import WriterStopped
from registry.http import authorize, errors, outage
from registry.http.keys import OUTAGE, POOL, REQUEST_ID

log = structlog.get_logger("modelog.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]
Format = Callable[[errors.ApiError, str | None], web.Response]
_SURROGATE = re.compile("[\ud800-\udfff]")


def answering(format_: Format) -> Middleware:
    @web.middleware
    async def failures(request: web.Request, handler: Handler) -> web.StreamResponse:
        # A request for a sub-application is checked by that one's own, innermost, so that its
        # refusals come in its surface's format.
        outer = len(request.match_info.apps) > 1 and request.match_info.apps[0] is request.app
        err = await _failure(request, handler, check=not outer)
        if isinstance(err, web.StreamResponse):
            return err
        response = format_(err, request.get(REQUEST_ID))
        if response.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="modelog"'
        elif response.status == 503:
            response.headers["Retry-After"] = outage.RETRY_AFTER
        elif response.status == 408:
            response.force_close()  # the rest of the body may still be on its way
        return response

    return failures


async def _failure(request: web.Request, handler: Handler, check: bool
                   ) -> web.StreamResponse | errors.ApiError:
    try:
        if check and any("\x00" in v for v in request.match_info.values()):
            # PostgreSQL text cannot hold NUL, so no object is named so; a query would fail.
            raise errors.ApiError(404, "NOT_FOUND", "no object has a name containing NUL")
        if check and any(not v.isascii() and _SURROGATE.search(v) for v in request.headers.values()):
            # Not UTF-8 (lone surrogates neither the log nor PostgreSQL can encode): the
            # User-Agent is kept in events' metadata, too.
            raise errors.ApiError(400, "INVALID_ARGUMENT", "a request header is not valid UTF-8")
        return await handler(request)
    except errors.ApiError as exc:
        return exc
    except PermissionDenied as exc:
        await authorize.record_refusal(request, exc)
        return errors.from_domain(exc)
    except DomainError as exc:
        return errors.from_domain(exc)
    except pydantic.ValidationError as exc:
        return errors.from_validation(exc)
    except WriterStopped:
        return errors.ApiError(503, "UNAVAILABLE", "the server is not accepting writes right now "
                               "(shutting down); retry")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return errors.from_http(exc)
    except asyncio.CancelledError:
        raise
    except ConnectionResetError:
        # The client hung up (mid-body, mid-download): nobody to answer, nothing went wrong here.
        # 499 as nginx names it, for the request's log line; the response goes nowhere.
        log.info("client closed the connection", request_id=request.get(REQUEST_ID))
        return web.Response(status=499)
    except Exception as exc:
        if outage.database_gone(exc):
            if (down := request.config_dict.get(OUTAGE)) is not None:
                down.failed(exc, request.config_dict[POOL])
            return errors.ApiError(503, "UNAVAILABLE", "the database is unavailable; retry")
        log.exception("unhandled error", request_id=request.get(REQUEST_ID))
        return errors.ApiError(500, "INTERNAL_ERROR", "internal error; see the server log for "
                               f"request {request.get(REQUEST_ID)}")
