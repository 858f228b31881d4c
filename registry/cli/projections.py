"""`modelog projections rebuild|status`: read-model maintenance.

`rebuild` replays the log into fresh tables and swaps them in (or, with --check, only compares);
`status` shows how far each catch-up projection lags the log's head."""

import argparse
import asyncio
import sys

from registry.cli.common import Subparsers, bar, database, database_options, pool

# Kept in step with projections.catch_up_projections(), which is too heavy to import for --help.
CATCH_UP_NAMES = ("alias_history", "webhook_outbox")


def add_parser(subparsers: Subparsers) -> None:
    proj = subparsers.add_parser("projections", help="read-model maintenance")
    proj_sub = proj.add_subparsers(dest="action", required=True)
    rebuild = proj_sub.add_parser(
        "rebuild", help="replay the whole log into fresh read-model tables and swap them in")
    rebuild.add_argument("name", nargs="?", choices=("inline", *CATCH_UP_NAMES),
                         help="one projection: 'inline' (the read models written with the "
                              "events) or a catch-up projection; default: all of them")
    rebuild.add_argument("--check", action="store_true",
                         help="rebuild aside and compare with the live tables; change nothing")
    database_options(rebuild)
    status = proj_sub.add_parser("status", help="each catch-up projection's checkpoint and lag")
    database_options(status)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_rebuild(args) if args.action == "rebuild" else _status(args))


async def _rebuild(args: argparse.Namespace) -> int:
    """Exit 1 if --check found a read model that differs from a replay of the log."""
    import projections
    from projections import catch_up
    from projections.rebuild import rebuild
    from registry import bootstrap

    failed = 0
    async with database(args) as url, bootstrap.migrated_pool(url) as db:
        if args.name in (None, "inline"):
            result = await rebuild(db, swap=not args.check, progress=bar("replaying"), dsn=url)
            print(file=sys.stderr)
            rate = result.events / result.seconds if result.seconds else 0
            print(f"inline: replayed {result.events} events in {result.seconds:.2f}s "
                  f"({rate:,.0f} events/s)")
            if not args.check:
                print("read models swapped in")
            elif result.differences:
                print("read models differ from a replay of the log: "
                      + ", ".join(result.differences))
                failed = 1
            else:
                print("read models equal a replay of the log")
        for projection in projections.catch_up_projections():
            if args.name not in (None, projection.name):
                continue
            progress = bar(f"{projection.name}")
            if args.check:
                position, differences = await catch_up.check(db, projection, progress=progress)
                print(file=sys.stderr)
                if differences:
                    print(f"{projection.name} differs from a replay of the log up to its "
                          f"checkpoint {position}: " + ", ".join(differences))
                    failed = 1
                else:
                    print(f"{projection.name} equals a replay of the log up to its checkpoint "
                          f"{position}")
                continue
            caught = await catch_up.rebuild(db, projection, progress=progress)
            print(file=sys.stderr)
            rate = caught.events / caught.seconds if caught.seconds else 0
            print(f"{projection.name}: replayed {caught.events} events in {caught.seconds:.2f}s "
                  f"({rate:,.0f} events/s), now at position {caught.position}")
    return failed


async def _status(args: argparse.Namespace) -> int:
    import projections
    from projections.catch_up import checkpoint
    from registry.eventstore import head_position

    async with pool(args) as db:
        head = await head_position(db)
        print(f"log head: {head}")
        for projection in projections.catch_up_projections():
            position = await checkpoint(db, projection.name)
            print(f"{projection.name}: position {position}, lag {head - position}")
    return 0
