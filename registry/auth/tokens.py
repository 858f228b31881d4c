"""Bearer tokens, pure: `mlg_<id>_<secret>`. The id finds the row; only the secret's hash is kept.

The id is 16 hex digits; the secret is `secrets.token_urlsafe(32)` (43 characters of [A-Za-z0-9_-]).
Anything else is not a token, and is refused before the database is asked.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PREFIX = "mlg_"
_TOKEN = re.compile(r"mlg_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class Token:
    id: str
    secret: str

    def __str__(self) -> str:
        return f"{PREFIX}{self.id}_{self.secret}"

    def __repr__(self) -> str:  # never the secret, in a traceback or a log line
        return f"Token(id={self.id!r})"


def new() -> Token:
    return Token(secrets.token_hex(8), secrets.token_urlsafe(32))


def parse(text: str) -> Token | None:
    match = _TOKEN.fullmatch(text)
    return None if match is None else Token(match[1], match[2])


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def verify(token: Token, stored: bytes) -> bool:
    """Constant time in where the secrets differ, so a guess learns nothing from the clock."""
    return hmac.compare_digest(digest(token.secret), stored)


def bearer(header: str | None) -> Token | None:
    """The token of an `Authorization: Bearer <token>` header (scheme case-insensitive)."""
    if header is None or len(header) > 256:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    return parse(credentials.strip()) if scheme.lower() == "bearer" else None
