"""Temporary credentials for a version's files, as Unity Catalog hands them out.

A client (MLflow's `uc:` registry, Unity Catalog's SDK) never holds the store's own keys: it asks
for a credential scoped to one version's folder, reads (and, while the version is still pending,
writes) there, and asks again when it expires. Which store a version's files are in is decided by
its own recorded location, not by today's storage root, so versions registered before a change of
root keep working. One vendor per kind of store, all on one interface (`CredentialVendor`).
"""

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from registry.domain.errors import InvalidArgument
from registry.storage.s3_policy import Access

PENDING, FAILED = "PENDING_REGISTRATION", "FAILED_REGISTRATION"


@dataclass(frozen=True, slots=True)
class AwsKeys:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


@dataclass(frozen=True, slots=True)
class TemporaryCredentials:
    url: str  # the location they are for
    expires_at_ms: int  # epoch milliseconds; 0 for a location that needs none
    aws: AwsKeys | None = None

    def unity_catalog(self) -> dict:
        """Unity Catalog's `TemporaryCredentials` (api/all.yaml)."""
        out: dict = {"url": self.url, "expiration_time": self.expires_at_ms}
        if self.aws is not None:
            out["aws_temp_credentials"] = {
                "access_key_id": self.aws.access_key_id,
                "secret_access_key": self.aws.secret_access_key,
                **({"session_token": self.aws.session_token} if self.aws.session_token else {}),
            }
        return out


class CredentialVendor(Protocol):
    async def vend(self, location: str, access: Access, principal: str) -> TemporaryCredentials:
        """Credentials for `access` to `location` and nothing else, on behalf of `principal`."""
        ...


class LocalFiles:
    """A `file:` location: the client reads and writes the path itself; nothing to sign."""

    async def vend(self, location: str, access: Access, principal: str) -> TemporaryCredentials:
        return TemporaryCredentials(url=location, expires_at_ms=0)


def file_access(status: str, operation: str, where: str) -> Access:
    """What a request for `operation` on a version in `status` may get, with Unity Catalog's
    refusals: nothing for a failed registration, and writing only while the version is pending."""
    if status == FAILED:
        raise InvalidArgument(f"Cannot request credentials on a model version with status "
                              f"{status}: {where}", field="version")
    if operation == "READ_MODEL_VERSION":
        return Access.READ
    if status != PENDING:
        raise InvalidArgument("Cannot request read/write credentials on a model version that "
                              f"has been finalized: {where}", field="operation")
    return Access.READ_WRITE


class Remembered:
    """A vendor's credentials kept for reuse while most of their life remains: many clients
    loading one version at once (replicas of an inference service starting) make one STS call,
    not one each. Keyed by principal too, so the store's access log names who asked."""

    def __init__(self, vendor: CredentialVendor, capacity: int = 10_000,
                 clock: Callable[[], float] = time.time) -> None:
        self._vendor, self._capacity, self._clock = vendor, capacity, clock
        self._kept: OrderedDict[tuple[str, Access, str], tuple[float, TemporaryCredentials]] = \
            OrderedDict()

    async def vend(self, location: str, access: Access, principal: str) -> TemporaryCredentials:
        key = (location, access, principal)
        kept = self._kept.get(key)
        now = self._clock()
        if kept is not None and now < kept[0]:
            self._kept.move_to_end(key)
            return kept[1]
        fresh = await self._vendor.vend(location, access, principal)
        # Reuse until half of the credential's life has passed: a client given it still has the
        # other half before it must ask again.
        reuse_until = now + max(0.0, fresh.expires_at_ms / 1000 - now) / 2
        self._kept[key] = (reuse_until, fresh)
        self._kept.move_to_end(key)
        while len(self._kept) > self._capacity:
            self._kept.popitem(last=False)
        return fresh

