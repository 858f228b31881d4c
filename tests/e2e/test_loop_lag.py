"""The server measures its own event loop: a stall (here the test blocking the loop it shares
with the in-process server) shows in /metrics, and a quiet loop does not count one."""

import asyncio
import re
import time

from tests.support.server import Live


async def _metrics(live: Live) -> dict[str, float]:
    async with live.http.get("/metrics") as r:
        text = await r.text()
    return {m[1]: float(m[2]) for m in re.finditer(
        r"^(modelog_event_loop_\w+) ([0-9.]+)$", text, re.M)}


async def test_a_stall_of_the_event_loop_is_measured(live: Live) -> None:
    await _metrics(live)  # starts a fresh "recent" window
    await asyncio.sleep(0.1)
    quiet = await _metrics(live)
    assert quiet["modelog_event_loop_lag_recent_max_seconds"] < 0.05
    time.sleep(0.08)  # noqa: ASYNC251 - the point: nothing else on this loop runs meanwhile
    await asyncio.sleep(0.02)
    after = await _metrics(live)
    assert after["modelog_event_loop_stalls_total"] >= quiet["modelog_event_loop_stalls_total"] + 1
    assert after["modelog_event_loop_lag_recent_max_seconds"] >= 0.05
    assert after["modelog_event_loop_lag_max_seconds"] >= 0.05
