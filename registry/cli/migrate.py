"""`modelog migrate`: apply the SQL migrations, e.g. before starting several servers at once."""

import argparse
import asyncio
import sys

from registry.cli.common import NEWER_SCHEMA, Subparsers, database, database_options


def add_parser(subparsers: Subparsers) -> None:
    database_options(subparsers.add_parser("migrate", help="apply the SQL migrations (idempotent)"))


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_migrate(args))


async def _migrate(args: argparse.Namespace) -> int:
    """On one plain connection rather than a pool: the migrations are all this command does."""
    import asyncpg

    from registry.eventstore.database import NewerSchema, migrate

    async with database(args) as url:
        conn = await asyncpg.connect(url)
        try:
            applied = await migrate(conn)
        except NewerSchema as exc:
            print(f"modelog migrate: {exc}", file=sys.stderr)
            return NEWER_SCHEMA
        finally:
            await conn.close()
    print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))
    return 0
