"""`modelog migrate`: apply the SQL migrations, e.g. before starting several servers at once."""

import argparse
import asyncio

from registry.cli.common import Subparsers, database, database_options


def add_parser(subparsers: Subparsers) -> None:
    database_options(subparsers.add_parser("migrate", help="apply the SQL migrations (idempotent)"))


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_migrate(args))


async def _migrate(args: argparse.Namespace) -> int:
    """On one plain connection rather than a pool: the migrations are all this command does."""
    import asyncpg

    from registry.eventstore.database import migrate

    async with database(args) as url:
        conn = await asyncpg.connect(url)
        try:
            applied = await migrate(conn)
        finally:
            await conn.close()
    print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))
    return 0
