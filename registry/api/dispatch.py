"""Running a command for a request: who asks, which request, which client."""

from aiohttp import web

from ..domain.commands import Command
from ..service import Outcome
from .authorize import require_for
from .keys import ACTOR, COMMAND, REQUEST_ID, SERVICE


async def execute(request: web.Request, cmd: Command) -> Outcome:
    request[COMMAND] = type(cmd).__name__
    require_for(request, cmd)
    return await request.app[SERVICE].execute(
        cmd, request[ACTOR], request_id=request[REQUEST_ID],
        client=request.headers.get("User-Agent"))
