"""The `modelog` command: serve, migrate, projections, audit, replay, webhook, token, version."""

# One module per command group (serve, migrate, projections, audit, replay, webhook, token), each with
# add_parser(subparsers) and run(args) -> int; the shared options and helpers are in common.py. The
# groups import what their commands need only when one runs, so `--help` and `version` stay fast.

import argparse
import warnings
from collections.abc import Sequence
from typing import Protocol

from registry import __version__
from registry.cli import audit, migrate, projections, replay, serve, token, webhook
from registry.cli.common import Subparsers

ENVIRONMENT_VARIABLES = frozenset({
    "MODELOG_DATABASE_URL", "MODELOG_HOST", "MODELOG_PORT", "MODELOG_DATA_DIR",
    "MODELOG_LOG_FORMAT", "MODELOG_DEFAULT_SCHEMA", "MODELOG_STORAGE_ROOT", "MODELOG_AUTH",
    "MODELOG_TRUSTED_HEADER", "MODELOG_WEBHOOK_RETENTION_DAYS", "MODELOG_TRACKING_URI",
})


class Group(Protocol):
    """What a command group module provides."""

    def add_parser(self, subparsers: Subparsers) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


# By command name, in the order `modelog --help` lists them.
GROUPS: dict[str, Group] = {
    "serve": serve, "migrate": migrate, "projections": projections, "audit": audit,
    "replay": replay, "webhook": webhook, "token": token,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="modelog", description=__doc__)
    parser.add_argument("--version", action="version", version=f"modelog {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS.values():
        group.add_parser(sub)
    sub.add_parser("version", help="print the version")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # The embedded PostgreSQL's wheel asks platformdirs for a runtime folder it never uses, which
    # warns on every command where XDG_RUNTIME_DIR is unset (containers, root shells).
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    args = build_parser().parse_args(argv)
    if args.command == "version":
        print(f"modelog {__version__}")
        return 0
    from registry.logs import configure

    configure(args.log_format)
    return GROUPS[args.command].run(args)
