"""Each append statement notifies once per channel, at commit: 'modelog_appended' with the highest
position, 'modelog_appended_streams' with it and the streams appended to (the position alone when
they would not fit in a payload); a statement that appends nothing notifies nothing."""

import asyncio

import asyncpg

from registry.eventstore.records import GENESIS_HASH

INSERT = ("INSERT INTO events (position, stream_id, stream_version, type, data, metadata, "
          "recorded_at, prev_hash, hash) SELECT p, s, p, 'Test', '{}', '{}', now(), $3, $3 "
          "FROM unnest($1::bigint[], $2::text[]) AS u(p, s)")


async def _heard(pool: asyncpg.Pool, *appends: tuple[list[int], list[str]]
                 ) -> list[tuple[str, str]]:
    heard: list[tuple[str, str]] = []

    def hear(_conn: object, _pid: int, channel: str, payload: str) -> None:
        heard.append((channel, payload))

    channels = ("modelog_appended", "modelog_appended_streams")
    async with pool.acquire() as listening:
        for channel in channels:
            await listening.add_listener(channel, hear)
        for positions, stream_ids in appends:
            await pool.execute(INSERT, positions, stream_ids, GENESIS_HASH)
        await asyncio.sleep(0.2)  # for the notifications to arrive
        for channel in channels:
            await listening.remove_listener(channel, hear)
    return heard


async def test_an_append_names_its_head_and_its_streams(pool: asyncpg.Pool) -> None:
    head = await pool.fetchval("SELECT coalesce(max(position), 0) FROM events")
    heard = await _heard(pool, ([head + 1, head + 2, head + 3], ["model:b", "model:a", "model:b"]),
                         ([], []))
    assert sorted(heard) == [("modelog_appended", str(head + 3)),
                             ("modelog_appended_streams", f"{head + 3}\nmodel:a\nmodel:b")]


async def test_streams_past_a_payload_leave_the_position_alone(pool: asyncpg.Pool) -> None:
    head = await pool.fetchval("SELECT coalesce(max(position), 0) FROM events")
    streams = [f"model:{i:036d}" for i in range(200)]  # 200 x 43 bytes > 7900
    heard = await _heard(pool, ([head + 1 + i for i in range(200)], streams))
    assert sorted(heard) == [("modelog_appended", str(head + 200)),
                             ("modelog_appended_streams", str(head + 200))]
