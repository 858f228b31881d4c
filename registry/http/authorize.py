"""A request's reader and read checks (registry/reads/), and refusals kept as denied attempts."""

from aiohttp import web

from registry.audit import denied
from registry.domain.errors import PermissionDenied
from registry.http.keys import COMMAND, POOL, PRINCIPAL, READ_CACHE, REQUEST_ID, SERVICE
from registry.reads.access import ReadAccess
from registry.reads.reader import Reader


def access(request: web.Request) -> ReadAccess:
    # A request that has run a command was checked for it by the writer: its answer reads what
    # it wrote.
    return ReadAccess(request[PRINCIPAL], request.config_dict[SERVICE].write_model,
                      request.config_dict[POOL], checked=COMMAND in request)


def reader(request: web.Request) -> Reader:
    return Reader(request.config_dict[POOL], request.config_dict[READ_CACHE], access(request))


async def record_refusal(request: web.Request, exc: PermissionDenied) -> None:
    """Keep a refusal among the denied attempts (principal, action, object, request, route)."""
    resource = request.match_info.route.resource
    await denied.record(request.config_dict[POOL], request[PRINCIPAL].name, exc.details,
                        request[REQUEST_ID], request.method,
                        resource.canonical if resource is not None else request.path)
