"""S3 locations and the session policy that scopes a temporary credential to one of them. Pure.

The policy is the one Unity Catalog's server attaches to its STS AssumeRole calls, so a role set up
for Unity Catalog works for Modelog unchanged: object reads (and, for read-write, writes, deletes
and multipart uploads) on the version's prefix and below, and listing the bucket only under that
prefix. A session policy can only narrow what the assumed role may do.
"""

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

READ_ACTIONS = ("s3:GetO*",)
WRITE_ACTIONS = ("s3:GetO*", "s3:PutO*", "s3:DeleteO*", "s3:*Multipart*")
SCHEMES = ("s3", "s3a", "s3n")


class Access(StrEnum):
    """What a credential may do with a version's files."""

    READ = "read"
    READ_WRITE = "read_write"


@dataclass(frozen=True, slots=True)
class S3Location:
    bucket: str
    prefix: str  # the key prefix, no leading or trailing slash; "" for the whole bucket

    @classmethod
    def parse(cls, url: str) -> "S3Location":
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.netloc:
            raise ValueError(f"not an S3 location: {url!r} (expected s3://bucket/prefix)")
        if parts.query or parts.fragment:
            raise ValueError(f"an S3 location has no query or fragment: {url!r}")
        return cls(parts.netloc, parts.path.strip("/"))

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


def session_policy(location: S3Location, access: Access) -> dict:
    """The IAM policy document (as JSON data) allowing `access` to `location` and nothing else."""
    bucket_arn = f"arn:aws:s3:::{location.bucket}"
    prefix = _literal(location.prefix)
    if prefix:
        objects = [f"{bucket_arn}/{prefix}/*", f"{bucket_arn}/{prefix}"]
        listed = [prefix, f"{prefix}/", f"{prefix}/*"]
    else:
        objects, listed = [f"{bucket_arn}/*"], ["*"]
    actions = WRITE_ACTIONS if access is Access.READ_WRITE else READ_ACTIONS
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": list(actions), "Resource": objects},
            {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [bucket_arn],
             "Condition": {"StringLike": {"s3:prefix": listed}}},
        ],
    }


def _literal(key_prefix: str) -> str:
    # S3 keys may hold `*`, `?` and `$`, which IAM reads as wildcards and variables: a path
    # copied as it is could grant more than it names. IAM's own escapes make them literal
    # (`$` first: the other escapes contain one).
    return key_prefix.replace("$", "${$}").replace("*", "${*}").replace("?", "${?}")
