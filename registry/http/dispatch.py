"""Running a command for a request: who asks, which request, which client."""

from aiohttp import web

from registry.domain.commands import Command
from registry.http.keys import COMMAND, PRINCIPAL, REQUEST_ID, SERVICE
from registry.service.handler import Outcome


async def execute(request: web.Request, cmd: Command) -> Outcome:
    request[COMMAND] = type(cmd).__name__
    return await request.config_dict[SERVICE].execute(
        cmd, request[PRINCIPAL], request_id=request[REQUEST_ID],
        client=request.headers.get("User-Agent"))
