"""Credentials for versions on S3 or an S3-compatible store.

`AssumeRole` is Unity Catalog's way: an STS AssumeRole of the configured role with a session
policy naming only the version's prefix (registry/storage/s3_policy.py), so the credential cannot
reach any other version even though the role can. `StaticKeys` is for S3-compatible stores without
STS: it hands out the server's own keys, unscoped (README, "Storage", says what that means).
The server's own AWS credentials come from botocore's usual chain (environment, profile, instance
role); they are never logged or answered, except by `StaticKeys`, which exists to answer them.
"""

import asyncio
import json
import re
import threading
import time
from typing import Any

from registry.domain.errors import Unavailable
from registry.settings import S3Settings
from registry.storage.credentials import AwsKeys, TemporaryCredentials
from registry.storage.s3_policy import Access, S3Location, session_policy

_SESSION_NAME_CHARS = re.compile(r"[^\w+=,.@-]")


class _Botocore:
    """One botocore session and STS client, made on first use (off the event loop: creating
    a client reads files and costs tens of milliseconds)."""

    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._session: Any = None
        self._sts: Any = None

    def session(self) -> Any:
        import botocore.session  # a dependency of the S3 modes only: imported when one is used

        with self._lock:
            if self._session is None:
                self._session = botocore.session.get_session()
            return self._session

    def sts(self) -> Any:
        session = self.session()
        with self._lock:
            if self._sts is None:
                region = (self.settings.region or session.get_config_variable("region")
                          or "us-east-1")
                self._sts = session.create_client("sts", region_name=region,
                                                  endpoint_url=self.settings.sts_endpoint)
            return self._sts


def session_name(principal: str) -> str:
    """The STS session name: the principal, so the store's own access log names who asked."""
    return ("modelog-" + _SESSION_NAME_CHARS.sub("_", principal))[:64]


class AssumeRole:
    def __init__(self, settings: S3Settings) -> None:
        if not settings.role_arn:
            raise ValueError("an s3:// storage root with STS credentials needs a role to assume: "
                             "--s3-role-arn (env MODELOG_S3_ROLE_ARN), or --s3-credentials static")
        if not 900 <= settings.credential_seconds <= 43200:
            raise ValueError("--s3-credential-seconds must be within STS's bounds, 900 to 43200 "
                             f"(got {settings.credential_seconds})")
        self._aws = _Botocore(settings)

    async def vend(self, location: str, access: Access, principal: str) -> TemporaryCredentials:
        where = S3Location.parse(location)
        policy = json.dumps(session_policy(where, access), separators=(",", ":"))
        answer = await asyncio.to_thread(self._assume, policy, session_name(principal))
        creds = answer["Credentials"]
        return TemporaryCredentials(
            url=where.url, expires_at_ms=int(creds["Expiration"].timestamp() * 1000),
            aws=AwsKeys(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]))

    def _assume(self, policy: str, name: str) -> dict:
        from botocore.exceptions import BotoCoreError, ClientError

        settings = self._aws.settings
        try:
            return self._aws.sts().assume_role(
                RoleArn=settings.role_arn, RoleSessionName=name, Policy=policy,
                DurationSeconds=settings.credential_seconds)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise Unavailable(f"the object store's STS refused AssumeRole of {settings.role_arn}: "
                              f"{error.get('Code')}: {error.get('Message')}") from None
        except BotoCoreError as exc:
            raise Unavailable(f"the object store's STS could not be reached: {exc}") from None


class StaticKeys:
    def __init__(self, settings: S3Settings) -> None:
        self._aws = _Botocore(settings)

    async def vend(self, location: str, access: Access, principal: str) -> TemporaryCredentials:
        where = S3Location.parse(location)
        frozen = await asyncio.to_thread(self._keys)
        # The keys do not expire; the time tells clients when to ask again, as for STS ones.
        expires = int((time.time() + self._aws.settings.credential_seconds) * 1000)
        return TemporaryCredentials(url=where.url, expires_at_ms=expires,
                                    aws=AwsKeys(frozen.access_key, frozen.secret_key, frozen.token))

    def _keys(self) -> Any:
        found = self._aws.session().get_credentials()
        if found is None:
            raise Unavailable("--s3-credentials static needs the server's own AWS keys "
                              "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile)")
        return found.get_frozen_credentials()
