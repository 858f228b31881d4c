"""PostgreSQL killed under a running server: every request that needs it is a 503 with
Retry-After in its surface's own format, /readyz says so plainly, and the log tells of the outage
once instead of a traceback per request; started again, the database is found again by itself:
writes go on, nothing lost, no restart of the server."""

import json
import os
import pwd
import shlex
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.cli import http, serve_embedded, stop, wait_ready


def answer(method: str, url: str, body: dict | None = None) -> tuple[int, dict, dict]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read() or b"{}")


def test_a_dead_database_is_a_503_to_retry_on_every_surface(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)  # the embedded server runs as its own user when we are root
    data = tmp_path / "data"
    proc, base = serve_embedded(data, "--log-format", "json")
    try:
        wait_ready(base, proc)
        assert http("POST", f"{base}/api/modelog/v1/models", {"name": "unity.default.m"})[0] == 201
        postmaster = int((data / "pgdata" / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGKILL)
        for _ in range(100):  # until it is gone, and the server has noticed
            if answer("GET", f"{base}/readyz")[0] == 503:
                break
            time.sleep(0.05)
        requests = [
            ("GET", "/api/modelog/v1/models/unity.default.other", None, "UNAVAILABLE"),
            ("POST", "/api/modelog/v1/models", {"name": "unity.default.n"}, "UNAVAILABLE"),
            ("GET", "/api/2.0/mlflow/registered-models/get?name=other", None,
             "TEMPORARILY_UNAVAILABLE"),
            ("POST", "/api/2.0/mlflow/registered-models/create", {"name": "n2"},
             "TEMPORARILY_UNAVAILABLE"),
            ("GET", "/api/2.1/unity-catalog/models/unity.default.other", None, "UNAVAILABLE"),
        ]
        for _ in range(3):
            for method, path, body, code in requests:
                status, headers, found = answer(method, base + path, body)
                assert status == 503 and headers.get("Retry-After") == "1", (path, found)
                assert found["error_code"] == code, (path, found)
        status, headers, ready = answer("GET", f"{base}/readyz")
        assert status == 503 and ready == {"status": "unavailable", "database": "unreachable"}
        assert headers.get("Retry-After") == "1"
        assert answer("GET", f"{base}/healthz")[0] == 200  # alive: the process itself is fine

        database = start_again(data / "pgdata")
        try:
            for _ in range(100):
                if answer("GET", f"{base}/readyz")[0] == 200:
                    break
                time.sleep(0.1)
            assert http("POST", f"{base}/api/modelog/v1/models", {"name": "unity.default.n"})[0] \
                == 201
            _, _, found = answer("GET", f"{base}/api/modelog/v1/models?max_results=10")
            assert [m["full_name"] for m in found["registered_models"]] == [
                "unity.default.m", "unity.default.n"], found
            time.sleep(1.5)  # the outage's probe finds the database back within a second
        finally:
            _, log = stop(proc)
            database.terminate()
            database.wait(30)
    finally:
        if proc.poll() is None:
            stop(proc)
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    said = [x["event"] for x in lines if x["event"].startswith("database ")]
    assert said == ["database unavailable: answering 503 until it is back",
                    "database available again"], said
    assert "Traceback" not in log and "unhandled error" not in log, log[-3000:]


def start_again(pgdata: Path) -> subprocess.Popen:
    """The embedded server as it was started (postmaster.opts), by its own user. The killed
    postmaster was the server process's child, a zombie it never waits for, so its pid and socket
    lock files look alive: they are removed first, as an operator would after checking."""
    for stale in ("postmaster.pid", *(f.name for f in pgdata.glob(".s.PGSQL.*"))):
        (pgdata / stale).unlink(missing_ok=True)
    command = shlex.split((pgdata / "postmaster.opts").read_text())
    owner = pwd.getpwuid(pgdata.stat().st_uid).pw_name
    if os.geteuid() == 0 and owner != "root":
        command = ["runuser", "-u", owner, "--", *command]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
