"""Writes a browser makes on behalf of another site are refused.

With no authentication (the loopback quickstart, where every request is the local admin) or a
trusted proxy's header, nothing in a request proves that its sender meant it: any web page the
user visits could POST to http://127.0.0.1:8080 (as `text/plain`, which needs no CORS preflight)
and move an alias. Browsers say where a request comes from (`Sec-Fetch-Site`, `Origin`); API
clients (MLflow's, curl, SDKs) send neither, so refusing cross-site writes costs them nothing.
Reads need no such care: without CORS headers a foreign page cannot see the answer.
"""

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from registry.http.errors import ApiError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def cross_site(request: web.Request) -> bool:
    fetched_from = request.headers.get("Sec-Fetch-Site")
    if fetched_from is not None:
        # 'same-site' is another origin too (e.g. another port on localhost); 'none' is the user
        # typing the address.
        return fetched_from not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return False  # not a browser, or a browser's same-origin request without Fetch Metadata
    # A proxy may end TLS in front of us, so compare the host and port only.
    return origin == "null" or urlsplit(origin).netloc.lower() != request.host.lower()


@web.middleware
async def refuse_cross_site_writes(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method not in SAFE_METHODS and cross_site(request):
        raise ApiError(403, "PERMISSION_DENIED", "a write from another site's page is refused "
                       "(Sec-Fetch-Site or Origin names another origin)")
    return await handler(request)
