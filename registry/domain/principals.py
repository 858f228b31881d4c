"""Principals and their tokens as the log tells them: fold (`evolve`) and decisions, pure.

A principal ('principal:<name>') is created the first time a token is issued to it; a token
('token:<id>') is issued once and may be revoked. Expiry is a fact of the issue, checked at use.
"""

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from registry.domain import events as ev
from registry.domain.errors import InvalidArgument, NotFound

ADMIN = "admin"  # the server's own principal: owns the bootstrap catalog and schema
MAX_NAME = 256
_DURATION = re.compile(r"(\d{1,6})([mhd])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class Principal:
    name: str
    admin: bool


@dataclass(frozen=True)
class IssuedToken:
    id: str
    principal: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    def valid_at(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


def principal_stream(name: str) -> str:
    return f"principal:{name}"


def token_stream(token_id: str) -> str:
    return f"token:{token_id}"


def evolve_principal(state: Principal | None, e: ev.Event) -> Principal | None:
    match e:
        case ev.PrincipalCreated():
            return Principal(e.name, e.admin)
        case ev.PrincipalAdminSet() if state is not None:
            return replace(state, admin=e.admin)
    return state


def evolve_token(state: IssuedToken | None, e: ev.Event, stamp: ev.Stamp) -> IssuedToken | None:
    match e:
        case ev.TokenIssued():
            return IssuedToken(e.token_id, e.principal, stamp.at, stamp.actor, e.expires_at)
        case ev.TokenRevoked() if state is not None:
            return replace(state, revoked_at=stamp.at, revoked_by=stamp.actor)
    return state


def check_name(name: str) -> str:
    # The name is the actor of every event its holder causes, and a request-log field.
    if not 0 < len(name) <= MAX_NAME or not name.isprintable() or name != name.strip():
        raise InvalidArgument(f"a principal name is 1 to {MAX_NAME} printable characters without "
                              "surrounding spaces", field="principal")
    return name


def parse_duration(text: str) -> timedelta:
    """'90m', '12h', '30d'."""
    match = _DURATION.fullmatch(text.strip())
    if match is None or int(match[1]) == 0:
        raise InvalidArgument(f"expiry must be a positive number of minutes, hours or days, like "
                              f"'30d' or '12h', not {text!r}", field="expires")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def issue(principal: Principal | None, name: str, token_id: str, expires_at: datetime | None,
          admin: bool | None) -> tuple[list[ev.Event], ev.TokenIssued]:
    """The principal's events (created, or its admin flag changed if `admin` says so) and the token's.

    `admin=None` leaves an existing principal as it is and makes a new one a non-admin."""
    check_name(name)
    if principal is None:
        before: list[ev.Event] = [ev.PrincipalCreated(name=name, admin=bool(admin))]
    elif admin is not None and admin != principal.admin:
        before = [ev.PrincipalAdminSet(admin=admin)]
    else:
        before = []
    return before, ev.TokenIssued(token_id=token_id, principal=name, expires_at=expires_at)


def revoke(token: IssuedToken | None, token_id: str) -> ev.TokenRevoked | None:
    """None if it is revoked already: revoking twice is not an error."""
    if token is None:
        raise NotFound(f"token {token_id!r} does not exist", token_id=token_id)
    return None if token.revoked_at is not None else ev.TokenRevoked(token_id=token_id)
