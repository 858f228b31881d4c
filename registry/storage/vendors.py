"""Which vendor answers for a version's files: by the scheme of the version's own location."""

from collections.abc import Mapping
from urllib.parse import urlsplit

from registry.domain.errors import FailedPrecondition
from registry.settings import Settings
from registry.storage.credentials import CredentialVendor, LocalFiles, Remembered, TemporaryCredentials
from registry.storage.s3 import AssumeRole, StaticKeys
from registry.storage.s3_policy import SCHEMES, Access


class Vendors:
    def __init__(self, by_scheme: Mapping[str, CredentialVendor]) -> None:
        self._by_scheme = dict(by_scheme)

    async def vend(self, location: str, access: Access, principal: str) -> TemporaryCredentials:
        scheme = urlsplit(location).scheme
        vendor = self._by_scheme.get(scheme)
        if vendor is None:
            raise FailedPrecondition(
                f"this server issues no credentials for {location}"
                f" (configured for: {', '.join(sorted(self._by_scheme)) or 'none'}; see README, "
                "'Storage')", storage_location=location)
        return await vendor.vend(location, access, principal)


def configured(settings: Settings) -> Vendors:
    """The vendors for the configured storage root (and always for `file:` locations). Raises
    ValueError, for `modelog serve` to print, when the root cannot be served."""
    root = urlsplit(settings.artifacts).scheme
    by_scheme: dict[str, CredentialVendor] = {"file": LocalFiles()}
    if root in SCHEMES:
        s3 = settings.s3
        vendor = Remembered(AssumeRole(s3) if s3.credentials == "sts" else StaticKeys(s3))
        by_scheme.update(dict.fromkeys(SCHEMES, vendor))
    elif root != "file":
        raise ValueError(f"storage root {settings.artifacts!r}: only file: and s3:// roots are "
                         "supported (see README, 'Storage')")
    return Vendors(by_scheme)
