"""Running a command for a request: who asks, which request, which client, and the request's
`Idempotency-Key`, if it sent one (a repeat then answers the first outcome, appending nothing)."""

from aiohttp import web

from registry.domain.commands import Command
from registry.domain.errors import InvalidArgument
from registry.http.keys import COMMAND, PRINCIPAL, REQUEST_ID, SERVICE
from registry.service.handler import Outcome

IDEMPOTENCY_KEY = "Idempotency-Key"
MAX_KEY = 255


def idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_KEY)
    if key is None:
        return None
    if not 0 < len(key) <= MAX_KEY or not (key.isascii() and key.isprintable()):
        raise InvalidArgument(f"{IDEMPOTENCY_KEY} must be 1 to {MAX_KEY} printable ASCII "
                              "characters", field=IDEMPOTENCY_KEY)
    return key


async def execute(request: web.Request, cmd: Command) -> Outcome:
    request[COMMAND] = type(cmd).__name__
    return await request.config_dict[SERVICE].execute(
        cmd, request[PRINCIPAL], idempotency_key=idempotency_key(request),
        request_id=request[REQUEST_ID], client=request.headers.get("User-Agent"))
