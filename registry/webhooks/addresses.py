"""Where MLflow-flavoured webhooks may connect, as MLflow's server has it: unless private addresses
are allowed, a webhook's host must resolve to public addresses only, checked when the webhook is
registered or repointed and again at each connection, on the addresses actually dialled (a
resolver that refuses the others), so a name cannot resolve to a public address for the check
and to a private one for the request.
"""

import asyncio
import socket
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from registry.domain import mlflow_webhooks as rules
from registry.domain.errors import InvalidArgument

RESOLVE_TIMEOUT = 5.0  # seconds


async def check_reachable(url: str, policy: rules.UrlPolicy) -> None:
    """MLflow's checks of a webhook URL: its form and scheme, then (unless the policy allows
    private addresses) what its host resolves to."""
    host = rules.url_host(url, policy)
    if policy.allow_private:
        return
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT):
            found = await asyncio.get_running_loop().getaddrinfo(host, None)
    except (OSError, UnicodeError, ValueError, TimeoutError) as exc:
        raise InvalidArgument(f"Cannot resolve Webhook URL hostname {host!r}: {exc}",
                              field="url") from None
    rules.refuse_private(host, [str(info[4][0]) for info in found])


class PublicOnly(AbstractResolver):
    """Resolves as usual and refuses a host with any non-public address. aiohttp dials an IP
    literal without a resolver, so `check_reachable` runs before each send as well."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        try:
            rules.refuse_private(host, [r["host"] for r in found])
        except InvalidArgument as exc:
            raise OSError(exc.message) from None
        return found

    async def close(self) -> None:
        await self._inner.close()


def connector_options(policy: rules.UrlPolicy) -> dict[str, Any]:
    return {} if policy.allow_private else {"resolver": PublicOnly()}
