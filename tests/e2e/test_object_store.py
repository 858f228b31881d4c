"""The S3 store the suite starts (SeaweedFS on loopback, tests/support/object_store.py) does what
the storage tests rely on: STS AssumeRole with a session policy confines a credential to one
version's folder, read-only really is read-only, credentials expire, and the static identity works."""

import datetime
import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from registry.storage.s3_policy import Access, S3Location, session_policy
from tests.support.object_store import ObjectStore, object_store

ONE = "models/A/versions/1"
TWO = "models/A/versions/2"


def prefix_policy(bucket: str, prefix: str, write: bool) -> dict:
    """Modelog's own session policy for one version's folder: the store enforces what we send."""
    return session_policy(S3Location(bucket, prefix.strip("/")),
                          Access.READ_WRITE if write else Access.READ)


@pytest.fixture(scope="module")
def store() -> Iterator[ObjectStore]:
    with object_store() as s:
        yield s


def refused(call: Any, **kwargs: Any) -> str:
    """The error code of a call that must fail."""
    with pytest.raises(ClientError) as e:
        call(**kwargs)
    return e.value.response["Error"]["Code"]


def keys(client: Any, bucket: str, prefix: str) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix=prefix)
            .get("Contents", [])]


def seconds_left(credentials: dict[str, Any]) -> float:
    return (credentials["Expiration"] - datetime.datetime.now(datetime.UTC)).total_seconds()


def test_the_static_identity_reads_writes_and_lists_the_whole_bucket(store: ObjectStore) -> None:
    s3 = store.client("s3")
    s3.put_object(Bucket=store.bucket, Key="static/a.txt", Body=b"static")
    assert s3.get_object(Bucket=store.bucket, Key="static/a.txt")["Body"].read() == b"static"
    assert keys(s3, store.bucket, "static/") == ["static/a.txt"]
    s3.delete_object(Bucket=store.bucket, Key="static/a.txt")
    assert keys(s3, store.bucket, "static/") == []
    who = store.client("sts").get_caller_identity()
    assert who["Arn"] == "arn:aws:iam::000000000000:user/modelog"
    # A wrong secret is refused: the store checks signatures.
    import boto3
    forged = boto3.client("s3", endpoint_url=store.endpoint, region_name=store.region,
                          aws_access_key_id=store.access_key, aws_secret_access_key="wrong",
                          config=Config(s3={"addressing_style": "path"},
                                        retries={"max_attempts": 1}))
    assert refused(forged.get_object, Bucket=store.bucket, Key="static/a.txt") \
        == "SignatureDoesNotMatch"


def test_a_read_write_session_reaches_its_own_prefix_and_nothing_else(store: ObjectStore) -> None:
    admin = store.client("s3")
    admin.put_object(Bucket=store.bucket, Key=f"{TWO}/MLmodel", Body=b"two")
    admin.put_object(Bucket=store.bucket, Key="models/A/versions/10/MLmodel", Body=b"ten")
    credentials = store.assume_role(prefix_policy(store.bucket, ONE, write=True),
                                    duration_seconds=900, session_name="rw")
    assert credentials["AccessKeyId"] != store.access_key and credentials["SessionToken"]
    assert 850 < seconds_left(credentials) <= 900
    c = store.client("s3", credentials)

    c.put_object(Bucket=store.bucket, Key=f"{ONE}/MLmodel", Body=b"one")
    assert c.get_object(Bucket=store.bucket, Key=f"{ONE}/MLmodel")["Body"].read() == b"one"
    assert c.head_object(Bucket=store.bucket, Key=f"{ONE}/MLmodel")["ContentLength"] == 3
    assert keys(c, store.bucket, f"{ONE}/") == [f"{ONE}/MLmodel"]
    c.put_object(Bucket=store.bucket, Key=f"{ONE}/data/model.pkl", Body=b"pkl")
    listed = c.list_objects_v2(Bucket=store.bucket, Prefix=f"{ONE}/", Delimiter="/")  # as MLflow
    assert [o["Key"] for o in listed["Contents"]] == [f"{ONE}/MLmodel"]
    assert listed["CommonPrefixes"] == [{"Prefix": f"{ONE}/data/"}]
    # The policy's bare-prefix value (s3:prefix = "models/A/versions/1", as Unity Catalog writes
    # it) lets a listing without the trailing slash name a sibling's keys (versions/10/...),
    # as on AWS; reading them stays refused (below).
    assert keys(c, store.bucket, ONE) == [f"{ONE}/MLmodel", f"{ONE}/data/model.pkl",
                                          "models/A/versions/10/MLmodel"]
    # A multipart upload (as boto3 does for big files) within the prefix, and an aborted one.
    big = b"m" * (6 * 1024 * 1024)
    c.upload_fileobj(io.BytesIO(big), store.bucket, f"{ONE}/model.pkl",
                     Config=TransferConfig(multipart_threshold=5 * 1024 * 1024,
                                           multipart_chunksize=5 * 1024 * 1024))
    assert admin.head_object(Bucket=store.bucket, Key=f"{ONE}/model.pkl")["ContentLength"] \
        == len(big)
    upload = c.create_multipart_upload(Bucket=store.bucket, Key=f"{ONE}/aborted")["UploadId"]
    c.upload_part(Bucket=store.bucket, Key=f"{ONE}/aborted", UploadId=upload, PartNumber=1,
                  Body=b"x")
    c.abort_multipart_upload(Bucket=store.bucket, Key=f"{ONE}/aborted", UploadId=upload)
    c.delete_object(Bucket=store.bucket, Key=f"{ONE}/model.pkl")

    # Another version's folder, even one whose name starts the same, is out of reach.
    for other in (TWO, "models/A/versions/10"):
        assert refused(c.put_object, Bucket=store.bucket, Key=f"{other}/x", Body=b"!") \
            == "AccessDenied"
        assert refused(c.get_object, Bucket=store.bucket, Key=f"{other}/MLmodel") \
            == "AccessDenied"
        assert refused(c.delete_object, Bucket=store.bucket, Key=f"{other}/MLmodel") \
            == "AccessDenied"
        assert refused(c.list_objects_v2, Bucket=store.bucket, Prefix=f"{other}/") \
            == "AccessDenied"
    assert refused(c.create_multipart_upload, Bucket=store.bucket, Key=f"{TWO}/big") \
        == "AccessDenied"
    # Listing above its prefix, or the whole bucket, is refused too.
    assert refused(c.list_objects_v2, Bucket=store.bucket, Prefix="models/A/") == "AccessDenied"
    assert refused(c.list_objects_v2, Bucket=store.bucket) == "AccessDenied"
    assert admin.get_object(Bucket=store.bucket, Key=f"{TWO}/MLmodel")["Body"].read() == b"two"


def test_a_read_only_session_reads_but_cannot_write(store: ObjectStore) -> None:
    admin = store.client("s3")
    admin.put_object(Bucket=store.bucket, Key=f"{ONE}/README", Body=b"read me")
    c = store.client("s3", store.assume_role(prefix_policy(store.bucket, ONE, write=False),
                                             duration_seconds=900, session_name="ro"))
    assert c.get_object(Bucket=store.bucket, Key=f"{ONE}/README")["Body"].read() == b"read me"
    assert f"{ONE}/README" in keys(c, store.bucket, f"{ONE}/")
    assert refused(c.put_object, Bucket=store.bucket, Key=f"{ONE}/README", Body=b"overwritten") \
        == "AccessDenied"
    assert refused(c.delete_object, Bucket=store.bucket, Key=f"{ONE}/README") == "AccessDenied"
    assert refused(c.create_multipart_upload, Bucket=store.bucket, Key=f"{ONE}/big") \
        == "AccessDenied"
    assert refused(c.get_object, Bucket=store.bucket, Key=f"{TWO}/MLmodel") == "AccessDenied"
    assert admin.get_object(Bucket=store.bucket, Key=f"{ONE}/README")["Body"].read() == b"read me"


def test_a_session_policy_narrows_the_role_and_never_widens_it(store: ObjectStore) -> None:
    admin = store.client("s3")
    admin.create_bucket(Bucket="elsewhere")
    admin.put_object(Bucket="elsewhere", Key="secret", Body=b"s")
    # No session policy: the role's own policy, s3:* on the store's bucket only.
    whole = store.client("s3", store.assume_role(duration_seconds=900))
    whole.put_object(Bucket=store.bucket, Key="anywhere/x", Body=b"x")
    assert refused(whole.get_object, Bucket="elsewhere", Key="secret") == "AccessDenied"
    # A session policy asking for everything still gets no more than the role.
    everything = {"Version": "2012-10-17",
                  "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    wide = store.client("s3", store.assume_role(everything, duration_seconds=900))
    assert wide.get_object(Bucket=store.bucket, Key="anywhere/x")["Body"].read() == b"x"
    assert refused(wide.get_object, Bucket="elsewhere", Key="secret") == "AccessDenied"
    # An explicit Deny in the session policy wins over its Allow.
    deny = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{store.bucket}/anywhere/*"}]}
    denied = store.client("s3", store.assume_role(deny, duration_seconds=900))
    assert refused(denied.put_object, Bucket=store.bucket, Key="anywhere/y", Body=b"y") \
        == "AccessDenied"
    # SeaweedFS's own ARN form in a session policy grants nothing (use arn:aws:s3:::).
    seaweed = json.dumps(prefix_policy(store.bucket, ONE, write=True)).replace(
        "arn:aws:s3:::", "arn:seaweed:s3:::")
    c = store.client("s3", store.assume_role(seaweed, duration_seconds=900))
    assert refused(c.put_object, Bucket=store.bucket, Key=f"{ONE}/s", Body=b"s") == "AccessDenied"


def test_duration_seconds_bounds(store: ObjectStore) -> None:
    # botocore itself refuses DurationSeconds < 900; ask the server with validation off.
    import boto3

    raw = boto3.client("sts", endpoint_url=store.sts_endpoint, region_name=store.region,
                       aws_access_key_id=store.access_key, aws_secret_access_key=store.secret_key,
                       config=Config(parameter_validation=False, retries={"max_attempts": 1}))
    for bad in (1, 899, 43201):
        assert refused(raw.assume_role, RoleArn=store.role_arn, RoleSessionName="bounds",
                       DurationSeconds=bad) == "InvalidParameterValue"
    assert 850 < seconds_left(store.assume_role(duration_seconds=900)) <= 900
    assert 43150 < seconds_left(store.assume_role(duration_seconds=43200)) <= 43200
    # Without DurationSeconds: the short default this store is configured with.
    assert 0 < seconds_left(store.assume_role()) <= store.short_token_seconds


def _outlives(store: ObjectStore, credentials: dict[str, Any]) -> None:
    """The credential works now and is refused once its Expiration has passed."""
    c = store.client("s3", credentials)
    c.put_object(Bucket=store.bucket, Key=f"{ONE}/before", Body=b"ok")
    assert c.get_object(Bucket=store.bucket, Key=f"{ONE}/before")["Body"].read() == b"ok"
    # Expiration is given to the second (truncated): wait a little past it.
    time.sleep(max(0.0, seconds_left(credentials)) + 1.2)
    assert refused(c.get_object, Bucket=store.bucket, Key=f"{ONE}/before") \
        in {"ExpiredToken", "AccessDenied", "InvalidAccessKeyId"}
    assert refused(c.put_object, Bucket=store.bucket, Key=f"{ONE}/after", Body=b"late") \
        in {"ExpiredToken", "AccessDenied", "InvalidAccessKeyId"}


def test_an_expired_credential_is_refused(store: ObjectStore) -> None:
    credentials = store.assume_role(prefix_policy(store.bucket, ONE, write=True))
    assert seconds_left(credentials) <= store.short_token_seconds
    _outlives(store, credentials)


def test_a_store_can_cap_every_session_to_a_few_seconds() -> None:
    # For a server that always asks for DurationSeconds (>= 900): cap sessions in the store.
    with object_store(max_session_seconds=5) as short:
        credentials = short.assume_role(prefix_policy(short.bucket, ONE, write=True),
                                        duration_seconds=900)
        assert 0 < seconds_left(credentials) <= 5
        _outlives(short, credentials)
