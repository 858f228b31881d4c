"""The `modelog` command, run as a user runs it (a subprocess), and a plain HTTP client for the
servers it starts."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

MODELOG = [sys.executable, "-m", "registry.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*MODELOG, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def serve_embedded(data_dir: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    """`modelog serve` on a free port with its embedded PostgreSQL under `data_dir` (whatever
    MODELOG_DATABASE_URL the tests run with), and its URL; stderr piped for `stop`."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MODELOG_DATABASE_URL"}
    proc = subprocess.Popen([*MODELOG, "serve", "--port", str(port), "--data-dir", str(data_dir),
                             *extra], stderr=subprocess.PIPE, text=True, env=env)
    return proc, f"http://127.0.0.1:{port}"


def http(method: str, url: str, body: dict | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def wait_ready(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early:\n{proc.stderr.read()}")
        try:
            if http("GET", f"{url}/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not become ready")


def stop(proc: subprocess.Popen) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return proc.returncode, err
