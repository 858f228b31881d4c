"""Running a command for a request: who asks, which request, which client."""

from aiohttp import web

from ..domain.commands import Command
from ..service import Outcome
from .keys import COMMAND, PRINCIPAL, REQUEST_ID, SERVICE


async def execute(request: web.Request, cmd: Command) -> Outcome:
    request[COMMAND] = type(cmd).__name__
    return await request.app[SERVICE].execute(
        cmd, request[PRINCIPAL], request_id=request[REQUEST_ID],
        client=request.headers.get("User-Agent"))
