"""Native token routes, admins only: issue (the token text is in this one answer), list, revoke."""

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import Field

from registry.auth.store import directory, last_used
from registry.domain.principals import IssuedToken, Principal, parse_duration
from registry.eventstore import iso_time
from registry.http.authenticate import require_admin
from registry.http.keys import ACTOR, AUTH, COMMAND, POOL, REQUEST_ID
from registry.http.native.requests import NoQuery
from registry.http.validation import Body, parse_body, parse_query
from registry.http.wire import json_response


class IssueTokenBody(Body):
    principal: str = Field(min_length=1, max_length=256)
    expires: str | None = Field(None, max_length=16, description="'30d', '12h', '90m'")
    admin: bool | None = None  # None: leave an existing principal's flag (a new one: not admin)


def _time(t: datetime | None) -> str | None:
    return None if t is None else iso_time(t)


def token_json(t: IssuedToken, principal: Principal | None = None,
               used: datetime | None = None) -> dict[str, Any]:
    return {"id": t.id, "principal": t.principal,
            "admin": None if principal is None else principal.admin,
            "created_at": iso_time(t.created_at), "created_by": t.created_by,
            "expires_at": _time(t.expires_at), "last_used_at": _time(used),
            "revoked": t.revoked_at is not None, "revoked_at": _time(t.revoked_at),
            "revoked_by": t.revoked_by}


def _who(request: web.Request, command: str) -> dict[str, Any]:
    require_admin(request)
    request[COMMAND] = command
    return {"actor": request[ACTOR], "request_id": request[REQUEST_ID],
            "client": request.headers.get("User-Agent")}


async def issue_token(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    who = _who(request, "IssueToken")
    body = await parse_body(request, IssueTokenBody)
    expires_in = None if body.expires is None else parse_duration(body.expires)
    token, issued = await request.config_dict[AUTH].issue(body.principal, expires_in=expires_in,
                                                  admin=body.admin, **who)
    return json_response({**token_json(issued), "token": str(token)}, status=201)


async def list_tokens(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    require_admin(request)
    found = await directory(request.config_dict[POOL])
    used = await last_used(request.config_dict[POOL])
    return json_response({"tokens": [
        token_json(t, found.principals.get(t.principal), used.get(t.id))
        for t in sorted(found.tokens.values(), key=lambda t: t.created_at)]})


async def revoke_token(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    revoked = await request.config_dict[AUTH].revoke(request.match_info["token_id"],
                                             **_who(request, "RevokeToken"))
    return json_response(token_json(revoked))


def add_routes(app: web.Application) -> None:
    app.router.add_routes([
        web.post("/tokens", issue_token),
        web.get("/tokens", list_tokens),
        web.delete("/tokens/{token_id}", revoke_token),
    ])
