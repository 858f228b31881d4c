"""Temporary credentials for version files, without a store: the session policy's scope, Unity
Catalog's refusals by version status, the vendor chosen by a location's scheme, and reuse."""

import pytest

from registry.domain.errors import FailedPrecondition, InvalidArgument
from registry.settings import S3Settings, Settings
from registry.storage import vendors
from registry.storage.credentials import Remembered, TemporaryCredentials, file_access
from registry.storage.s3 import session_name
from registry.storage.s3_policy import Access, S3Location, session_policy

VERSION = "s3://bucket/root/models/0b9e/versions/3"


def test_a_location_is_a_bucket_and_a_key_prefix() -> None:
    assert S3Location.parse(VERSION) == S3Location("bucket", "root/models/0b9e/versions/3")
    assert S3Location.parse("s3a://b/p/").url == "s3://b/p"
    assert S3Location.parse("s3://b").prefix == ""
    for bad in ("file:///tmp/x", "s3:///no-bucket", "s3://b/p?versionId=1", "https://b/p"):
        with pytest.raises(ValueError):
            S3Location.parse(bad)


def test_the_session_policy_names_only_the_versions_prefix() -> None:
    read = session_policy(S3Location.parse(VERSION), Access.READ)
    objects, listing = read["Statement"]
    assert objects["Action"] == ["s3:GetO*"]
    assert objects["Resource"] == ["arn:aws:s3:::bucket/root/models/0b9e/versions/3/*",
                                   "arn:aws:s3:::bucket/root/models/0b9e/versions/3"]
    assert listing["Action"] == ["s3:ListBucket"]
    assert listing["Resource"] == ["arn:aws:s3:::bucket"]
    assert listing["Condition"]["StringLike"]["s3:prefix"] == [
        "root/models/0b9e/versions/3", "root/models/0b9e/versions/3/",
        "root/models/0b9e/versions/3/*"]

    write = session_policy(S3Location.parse(VERSION), Access.READ_WRITE)
    assert set(write["Statement"][0]["Action"]) == {
        "s3:GetO*", "s3:PutO*", "s3:DeleteO*", "s3:*Multipart*"}
    assert write["Statement"][0]["Resource"] == objects["Resource"]


def test_iam_wildcards_in_a_key_are_literal_in_the_policy() -> None:
    policy = session_policy(S3Location("b", "a*b?c$d"), Access.READ)
    assert policy["Statement"][0]["Resource"][1] == "arn:aws:s3:::b/a${*}b${?}c${$}d"


def test_unity_catalogs_refusals_by_version_status() -> None:
    assert file_access("PENDING_REGISTRATION", "READ_WRITE_MODEL_VERSION", "m/1") is Access.READ_WRITE
    assert file_access("READY", "READ_MODEL_VERSION", "m/1") is Access.READ
    assert file_access("PENDING_REGISTRATION", "READ_MODEL_VERSION", "m/1") is Access.READ
    with pytest.raises(InvalidArgument, match="has been finalized: m/1"):
        file_access("READY", "READ_WRITE_MODEL_VERSION", "m/1")
    with pytest.raises(InvalidArgument, match="status FAILED_REGISTRATION: m/1"):
        file_access("FAILED_REGISTRATION", "READ_MODEL_VERSION", "m/1")


def test_the_sts_session_is_named_after_the_principal_within_sts_rules() -> None:
    assert session_name("alice@example.com") == "modelog-alice@example.com"
    assert session_name("a b/c:d") == "modelog-a_b_c_d"
    assert len(session_name("x" * 200)) == 64


async def test_the_vendor_is_chosen_by_the_versions_own_location(tmp_path) -> None:
    local = vendors.configured(Settings(data_dir=tmp_path))
    vended = await local.vend(f"file://{tmp_path}/v/1", Access.READ_WRITE, "alice")
    assert vended.unity_catalog() == {"url": f"file://{tmp_path}/v/1", "expiration_time": 0}
    # A server with a file: root issues nothing for versions kept on S3 (e.g. before a move).
    with pytest.raises(FailedPrecondition, match="issues no credentials for s3://b/v/1"):
        await local.vend("s3://b/v/1", Access.READ, "alice")


def test_a_root_that_cannot_be_served_stops_the_server_at_start(tmp_path) -> None:
    with pytest.raises(ValueError, match="--s3-role-arn"):
        vendors.configured(Settings(data_dir=tmp_path, storage_root="s3://b/root"))
    with pytest.raises(ValueError, match="900 to 43200"):
        vendors.configured(Settings(data_dir=tmp_path, storage_root="s3://b/root", s3=S3Settings(
            role_arn="arn:aws:iam::1:role/r", credential_seconds=60)))
    with pytest.raises(ValueError, match="only file: and s3:// roots"):
        vendors.configured(Settings(data_dir=tmp_path, storage_root="gs://b/root"))
    vendors.configured(Settings(data_dir=tmp_path, storage_root="s3://b/root",
                                s3=S3Settings(role_arn="arn:aws:iam::1:role/r")))
    vendors.configured(Settings(data_dir=tmp_path, storage_root="s3://b/root",
                                s3=S3Settings(credentials="static")))


class Counting:
    def __init__(self, lifetime_s: float, now: list[float]) -> None:
        self.calls, self.lifetime_s, self.now = 0, lifetime_s, now

    async def vend(self, location: str, access: Access, principal: str) -> TemporaryCredentials:
        self.calls += 1
        return TemporaryCredentials(location, int((self.now[0] + self.lifetime_s) * 1000))


async def test_credentials_are_reused_for_half_their_life_per_principal_and_access() -> None:
    now = [1000.0]
    inner = Counting(3600, now)
    kept = Remembered(inner, capacity=2, clock=lambda: now[0])
    first = await kept.vend(VERSION, Access.READ, "alice")
    assert await kept.vend(VERSION, Access.READ, "alice") is first
    assert inner.calls == 1
    await kept.vend(VERSION, Access.READ_WRITE, "alice")
    await kept.vend(VERSION, Access.READ, "bob")
    assert inner.calls == 3
    now[0] += 1801  # past half of the first one's life
    assert await kept.vend(VERSION, Access.READ, "bob") is not first
    assert inner.calls == 4
