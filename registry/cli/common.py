"""What the command groups share: environment defaults, the database options, the database and
pool they name, and the progress bar. Imports little, so `modelog --help` stays fast; the
composition root is imported only when a command actually runs."""

import argparse
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

# Exit codes beside 0, 1 (a failure while running) and 2 (usage, or a verdict such as a tampered
# log where a command says so): each a condition a script can tell apart.
PORT_UNAVAILABLE = 4  # `serve` cannot listen where it was told to
NEWER_SCHEMA = 5  # the database was migrated by a newer modelog
NO_REGISTRY = 6  # no --database-url, and no embedded database under --data-dir to open

if TYPE_CHECKING:
    import asyncpg

# What `add_subparsers()` returns; each group module adds its command to it.
Subparsers = argparse._SubParsersAction


def env(name: str, default: str | None = None) -> str | None:
    """The variable's value; an empty one counts as unset, so `FOO=` falls back to the default."""
    return os.environ.get(name) or default


def database_options(p: argparse.ArgumentParser) -> None:
    """The options every command that touches the database takes (and --log-format)."""
    p.add_argument("--data-dir", default=env("MODELOG_DATA_DIR", ".modelog"),
                   help="where the embedded PostgreSQL keeps its data (default: ./.modelog; "
                        "env MODELOG_DATA_DIR)")
    p.add_argument("--database-url", default=env("MODELOG_DATABASE_URL"),
                   help="a PostgreSQL URL to use instead of the embedded server "
                        "(env MODELOG_DATABASE_URL)")
    p.add_argument("--log-format", choices=("console", "json"),
                   default=env("MODELOG_LOG_FORMAT", "console" if sys.stderr.isatty() else "json"),
                   help="console lines or JSON lines (env MODELOG_LOG_FORMAT; default: json "
                        "unless stderr is a terminal)")


def _existing(args: argparse.Namespace) -> Path:
    """--data-dir, if it holds an embedded database or --database-url is given; else exit."""
    data_dir = Path(args.data_dir)
    if args.database_url is None and not (data_dir / "pgdata" / "PG_VERSION").exists():
        print(f"modelog {args.command}: no registry in {data_dir.resolve()} (its database would "
              "be pgdata/ there): pass the --data-dir `modelog serve` uses, or --database-url",
              file=sys.stderr)
        raise SystemExit(NO_REGISTRY)
    return data_dir


@asynccontextmanager
async def database(args: argparse.Namespace) -> AsyncIterator[str]:
    """The URL of --database-url, else of the embedded PostgreSQL under --data-dir (started here).
    Only `serve` makes a new registry: any other command in a folder that holds none would
    report on an empty one it had just made, so it says so and exits instead."""
    from registry import bootstrap

    async with bootstrap.database(args.database_url, _existing(args)) as url:
        yield url


@asynccontextmanager
async def pool(args: argparse.Namespace) -> AsyncIterator["asyncpg.Pool"]:
    """A small pool (1 to 4 connections) on the database of `args`, with the migrations applied."""
    from registry import bootstrap

    async with database(args) as url, bootstrap.migrated_pool(url) as migrated:
        yield migrated


def bar(label: str) -> Callable[[int, int], None]:
    """A progress callback drawing `label [####....] done/total` on stderr, redrawn in place;
    the caller ends the line (print(file=sys.stderr)) when done."""
    def progress(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        print(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="",
              file=sys.stderr, flush=True)

    return progress
