"""A catch-up follower under a stream of commits: a step per `coalesce` seconds takes every commit
since the last, not a step per commit; a commit after a quiet spell is applied at once."""

import asyncio
import time
from collections.abc import Sequence

import asyncpg

from projections.catch_up import Follower
from registry.domain import commands as c
from registry.domain.principals import ADMIN
from registry.eventstore import RecordedEvent
from registry.eventstore.log_head import LogHead
from registry.service.handler import RegistryService


class Counting:
    name = "test_counting"
    tables = ()

    def __init__(self) -> None:
        self.steps = 0

    async def apply(self, conn: asyncpg.Connection, events: Sequence[RecordedEvent]) -> None:
        self.steps += 1

    async def reset(self, conn: asyncpg.Connection) -> None:
        pass


async def _caught_up(follower: Follower, head: LogHead, seconds: float) -> float:
    """How long until the follower reaches the head (at most `seconds`)."""
    t0 = time.monotonic()
    for _ in range(int(seconds / 0.002)):
        if follower.position >= head.position:
            break
        await asyncio.sleep(0.002)
    return time.monotonic() - t0


async def test_a_burst_of_commits_takes_few_steps(pool: asyncpg.Pool, service: RegistryService
                                                  ) -> None:
    head, counting = LogHead(), Counting()
    service.store.writer.on_commit.append(lambda position, _: head.advance(position))
    follower = Follower(pool, counting, head, coalesce=0.25)
    await follower.start()
    try:
        await service.execute(c.CreateModel(full_name="unity.default.first"), ADMIN)
        await _caught_up(follower, head, 5.0)
        await asyncio.sleep(0.5)  # quiet: the next commit is applied at once
        steps = counting.steps
        await service.execute(c.CreateModel(full_name="unity.default.quiet"), ADMIN)
        assert await _caught_up(follower, head, 5.0) < 0.2
        assert counting.steps == steps + 1
        # 60 commits one after the other, for about as long as a few windows.
        t0, steps = time.monotonic(), counting.steps
        for i in range(60):
            await service.execute(c.CreateModel(full_name=f"unity.default.m{i}"), ADMIN)
            await asyncio.sleep(0.01)
        await _caught_up(follower, head, 5.0)
        assert follower.position == head.position
        windows = (time.monotonic() - t0) / 0.25
        assert counting.steps - steps <= windows + 2, (counting.steps - steps, windows)
    finally:
        await follower.stop()
