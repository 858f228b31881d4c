"""A LISTEN that comes back by itself: PostgreSQL drops its connection, it says so, listens again
on a new one, says that too, and hears what is sent after; once stopped, it stays stopped."""

import asyncio

import asyncpg

from registry.eventstore.listener import Listener


async def _until(condition, seconds: float = 5.0) -> bool:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


async def test_a_lost_listen_comes_back(pool: asyncpg.Pool) -> None:
    heard: list[str] = []
    lost, again = [], []

    async def listening_again() -> None:
        again.append(True)

    listener = Listener("test_channel", heard.append, lost=lambda: lost.append(True),
                        again=listening_again)
    await listener.start(pool)
    await pool.execute("SELECT pg_notify('test_channel', 'one')")
    assert await _until(lambda: heard == ["one"])
    pid = listener.connection.get_server_pid()
    assert await pool.fetchval("SELECT pg_terminate_backend($1)", pid)
    assert await _until(lambda: lost and again)
    assert listener.listening and listener.connection.get_server_pid() != pid
    await pool.execute("SELECT pg_notify('test_channel', 'two')")
    assert await _until(lambda: heard == ["one", "two"])
    await listener.stop()
    assert not listener.listening and listener.connection is None
    await pool.execute("SELECT pg_notify('test_channel', 'three')")
    await asyncio.sleep(0.2)
    assert heard == ["one", "two"] and len(again) == 1
