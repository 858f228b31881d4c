"""`modelog serve --workers N`: N server processes on one port, every core busy.

This process starts the database (the embedded one unless a URL is given), applies the
migrations once, then runs N copies of `modelog serve` bound to the same port with SO_REUSEPORT:
the kernel spreads connections over them. Each worker is a whole server (writer, caches, catch-up
projections, webhook dispatcher) sharing the one log: their writers take the log's lock for every
batch (`Settings.workers`), so they never collide, and each follows the others' commits through
PostgreSQL's notifications. A worker that dies is started again; SIGINT or SIGTERM stops them all.
"""

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

import structlog

from registry import bootstrap

log = structlog.get_logger(__name__)
RESTART_DELAY = 1.0  # seconds before a worker that died is started again


def worker_argv(argv: list[str]) -> list[str]:
    """`modelog serve`'s own arguments without `--workers` (a worker serves alone)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--workers":
            skip = True
        elif not arg.startswith("--workers="):
            out.append(arg)
    return out


async def supervise(argv: list[str], workers: int, database_url: str | None,
                    data_dir: Path) -> int:
    async with bootstrap.database(database_url, data_dir) as url:
        async with bootstrap.migrated_pool(url):
            pass  # once here, rather than N workers queueing on the migration lock
        env = {**os.environ, "MODELOG_DATABASE_URL": url, "MODELOG_WORKERS": "1",
               "MODELOG_WORKER_OF": str(workers)}
        cmd = [sys.executable, "-m", "registry.cli", *worker_argv(argv)]
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        results = await asyncio.gather(*(_keep_running(i, cmd, env, stopping)
                                         for i in range(workers)))
        return max(results)


async def _keep_running(index: int, cmd: list[str], env: dict[str, str],
                        stopping: asyncio.Event) -> int:
    while True:
        proc = await asyncio.create_subprocess_exec(*cmd, env=env)
        log.info("worker started", worker=index, pid=proc.pid)
        waiting = asyncio.ensure_future(proc.wait())
        stop = asyncio.ensure_future(stopping.wait())
        await asyncio.wait([waiting, stop], return_when=asyncio.FIRST_COMPLETED)
        if stopping.is_set():
            stop.cancel()
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            code = await waiting
            log.info("worker stopped", worker=index, pid=proc.pid, code=code)
            return 0 if code in (0, -signal.SIGTERM) else code
        stop.cancel()
        if waiting.result() == 2:  # a configuration error: starting again would fail again
            stopping.set()
            return 2
        log.error("worker exited; starting it again", worker=index, pid=proc.pid,
                  code=waiting.result())
        await asyncio.sleep(RESTART_DELAY)
