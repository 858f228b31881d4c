"""`modelog audit verify|report`: check the log's hash chain; write a compliance report.

Both read the log on one plain connection (migrated first, so they work on a fresh database)."""

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from registry.cli.common import Subparsers, bar, database, database_options

if TYPE_CHECKING:
    from registry.audit.compliance import Report


def add_parser(subparsers: Subparsers) -> None:
    audit = subparsers.add_parser("audit", help="audit the event log")
    audit_sub = audit.add_subparsers(dest="action", required=True)
    verify = audit_sub.add_parser(
        "verify", help="walk the hash chain and check model snapshots against it; report the "
                       "head hash, or where the log was tampered")
    verify.add_argument("--expect-head", metavar="POSITION:HASH",
                        help="a head printed by an earlier verify (and kept elsewhere): the log "
                             "must still hold it, or it was cut or rewritten since (exit 2)")
    database_options(verify)
    report = audit_sub.add_parser(
        "report", help="write a compliance report: per model, every version, alias, stage and "
                       "transition request change in a window of the log, with who and when")
    report.add_argument("--since", help="the window's start, inclusive: a log position or an "
                                        "ISO-8601 time with a UTC offset (default: the log's start)")
    report.add_argument("--until", help="the window's end, inclusive, as --since (default: now)")
    report.add_argument("--object", help="only the models under this dotted prefix (prod, "
                                         "prod.fraud) or with this full name")
    report.add_argument("--format", choices=("json", "csv", "html"), default="html",
                        help="html (one self-contained page with alias timelines; the default), "
                             "json (everything) or csv (one row per change)")
    report.add_argument("--output", "-o", help="the file to write (default: standard output)")
    database_options(report)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_verify(args)) if args.action == "verify" else _report(args)


async def _verify(args: argparse.Namespace) -> int:
    """Exit 0 with the head hash (to note down and compare later), or 2 where the chain breaks."""
    import asyncpg

    from registry.eventstore.chain import holds_published, verify
    from registry.eventstore.database import init_connection, migrate
    from registry.eventstore.model_folds import check_snapshots

    async with database(args) as url:
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn)
            await init_connection(conn)
            verdict = await verify(conn, bar("verifying"))
            wrong, moved = [], None
            if verdict.ok and args.expect_head:
                moved = await holds_published(conn, args.expect_head)
            if verdict.ok:  # then the snapshots, which the chain does not cover
                print(file=sys.stderr)
                wrong = await check_snapshots(conn, bar("checking snapshots"))
        finally:
            await conn.close()
    print(file=sys.stderr)
    if verdict.ok and moved:
        print(f"TAMPERED: {moved}. The chain itself holds for positions "
              f"1..{verdict.head_position} (hash {verdict.head_hash}).")
        return 2
    if verdict.ok and wrong:
        for stream, position in wrong:
            print(f"SNAPSHOT WRONG: {stream} at position {position} does not hold the fold of "
                  "its events (the log itself is intact; the row is a cache and can be deleted)")
        return 2
    if verdict.ok:
        print(f"OK: {verdict.count} events, head position {verdict.head_position}, "
              f"head hash {verdict.head_hash} (publish it as "
              f"{verdict.head_position}:{verdict.head_hash})")
        return 0
    print(f"TAMPERED at position {verdict.position}: {verdict.problem}. The chain holds for "
          f"positions 1..{verdict.head_position} (hash {verdict.head_hash}).")
    return 2


def _report(args: argparse.Namespace) -> int:
    """Gather the report in the event loop, then format and write it outside it; exit 2 on a bad
    --since, --until or --object."""
    from registry.audit.formats import to_csv, to_json
    from registry.audit.html import to_html
    from registry.domain.errors import InvalidArgument

    try:
        report = asyncio.run(_gather(args))
    except InvalidArgument as exc:
        print(f"modelog audit report: {exc}", file=sys.stderr)
        return 2
    print(file=sys.stderr)
    text = {"json": to_json, "csv": to_csv, "html": to_html}[args.format](report)
    if args.output is None:
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output} ({args.format}, {len(report.models)} model(s))",
              file=sys.stderr)
    return 0


async def _gather(args: argparse.Namespace) -> "Report":
    from datetime import UTC, datetime

    import asyncpg

    from registry.audit.queries import object_prefix
    from registry.audit.report import build, window
    from registry.eventstore.database import READ_MODEL_SCHEMA, init_connection, migrate
    from registry.reads.as_of import parse_point

    since, until = (None if text is None else parse_point(text, flag)
                    for text, flag in ((args.since, "--since"), (args.until, "--until")))
    prefix = None if args.object is None else object_prefix(args.object)
    async with database(args) as url:
        # The read model's schema: an object prefix is looked up in model_names.
        conn = await asyncpg.connect(
            url, server_settings={"search_path": f"{READ_MODEL_SCHEMA}, public"})
        try:
            await migrate(conn)
            await init_connection(conn)
            w = await window(conn, since, until, prefix, datetime.now(UTC))
            return await build(conn, w, bar("reading"))
        finally:
            await conn.close()
