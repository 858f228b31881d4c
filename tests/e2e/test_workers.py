"""`modelog serve --workers 2` as a user runs it: two processes on one port share the log. Under
concurrent writes from 16 clients, on new connections so both workers take them, every request
succeeds and every model's versions are numbered 1..n without a gap or a repeat; a worker that
dies is started again; SIGTERM stops them all."""

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

API = "/api/2.0/mlflow"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def _workers(db_url: str, tmp_path: Path, log: Path):
    port = _free_port()
    with log.open("w") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "registry.cli", "serve", "--workers", "2", "--port", str(port),
            "--database-url", db_url, "--data-dir", str(tmp_path), "--log-format", "json",
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as http:
                for _ in range(240):
                    with contextlib.suppress(aiohttp.ClientError):
                        async with http.get(f"{base}/readyz") as r:
                            if r.status == 200:
                                break
                    await asyncio.sleep(0.25)
                else:
                    raise AssertionError(f"not ready: {_lines(log)[-20:]}")
            yield base, proc
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                await asyncio.wait_for(proc.wait(), 60)


def _lines(log: Path) -> list[dict]:
    out = []
    for line in log.read_text().splitlines():
        with contextlib.suppress(ValueError):
            out.append(json.loads(line))
    return out


async def _post(http: aiohttp.ClientSession, url: str, body: dict) -> tuple[int, dict]:
    async with http.post(url, json=body) as r:
        return r.status, await r.json()


async def test_two_workers_take_concurrent_writes_without_a_conflict(db_url, tmp_path) -> None:
    log = tmp_path / "serve.log"
    async with _workers(db_url, tmp_path, log) as (base, proc):
        # A new connection per request: SO_REUSEPORT spreads them over both workers.
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as http:
            models = [f"m{i}" for i in range(4)]
            for name in models:
                assert (await _post(http, f"{base}{API}/registered-models/create",
                                    {"name": name}))[0] == 200

            async def client(k: int) -> list[int]:
                statuses = []
                for j in range(25):
                    name = models[(k + j) % len(models)]
                    status, body = await _post(http, f"{base}{API}/model-versions/create",
                                               {"name": name, "source": f"s3://b/{k}/{j}"})
                    statuses.append(status)
                    if status == 200:
                        statuses.append((await _post(http, f"{base}{API}/registered-models/alias", {
                            "name": name, "alias": f"c{k}",
                            "version": body["model_version"]["version"]}))[0])
                return statuses

            statuses = [s for got in await asyncio.gather(*(client(k) for k in range(16)))
                        for s in got]
            assert statuses == [200] * len(statuses)
            for name in models:
                async with http.get(f"{base}{API}/model-versions/search",
                                    params={"filter": f"name='{name}'",
                                            "max_results": "1000"}) as r:
                    numbers = sorted(int(v["version"]) for v in (await r.json())["model_versions"])
                assert numbers == list(range(1, 101)), name
        served = {line.get("pid") for line in _lines(log) if line.get("event") == "request"}
        assert len(served - {None}) == 2  # both workers answered requests
        assert proc.returncode is None
    assert proc.returncode == 0  # SIGTERM: every worker stopped, then the supervisor


async def test_a_worker_that_dies_is_started_again(db_url, tmp_path) -> None:
    log = tmp_path / "serve.log"
    async with _workers(db_url, tmp_path, log) as (base, _):
        first = [line["pid"] for line in _lines(log) if line.get("event") == "worker started"]
        assert len(first) == 2
        os.kill(first[0], signal.SIGKILL)
        for _ in range(240):
            started = [line["pid"] for line in _lines(log) if line.get("event") == "worker started"]
            if len(started) == 3:
                break
            await asyncio.sleep(0.25)
        assert len(started) == 3 and started[2] not in first
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as http:
            for i in range(10):  # whichever worker takes them, they are answered
                assert (await _post(http, f"{base}{API}/registered-models/create",
                                    {"name": f"after{i}"}))[0] == 200
