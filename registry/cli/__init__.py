"""The `modelog` command: serve, migrate, projections, audit, replay, webhook, token, version."""

import argparse
import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from registry import __version__
from registry.settings import Settings

if TYPE_CHECKING:
    import asyncpg

CATCH_UP_NAMES = ("alias_history", "webhook_outbox")  # kept in step with projections.catch_up_projections()
ENVIRONMENT_VARIABLES = frozenset({
    "MODELOG_DATABASE_URL", "MODELOG_HOST", "MODELOG_PORT", "MODELOG_DATA_DIR",
    "MODELOG_LOG_FORMAT", "MODELOG_DEFAULT_SCHEMA", "MODELOG_STORAGE_ROOT", "MODELOG_AUTH",
    "MODELOG_TRUSTED_HEADER",
})


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name) or default


def _database_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", default=_env("MODELOG_DATA_DIR", ".modelog"),
                   help="where the embedded PostgreSQL keeps its data (default: ./.modelog; "
                        "env MODELOG_DATA_DIR)")
    p.add_argument("--database-url", default=_env("MODELOG_DATABASE_URL"),
                   help="a PostgreSQL URL to use instead of the embedded server "
                        "(env MODELOG_DATABASE_URL)")
    p.add_argument("--log-format", choices=("console", "json"),
                   default=_env("MODELOG_LOG_FORMAT", "console" if sys.stderr.isatty() else "json"),
                   help="console lines or JSON lines (env MODELOG_LOG_FORMAT; default: json "
                        "unless stderr is a terminal)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="modelog", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the registry server")
    serve.add_argument("--host", default=_env("MODELOG_HOST", "127.0.0.1"),
                       help="address to listen on (default 127.0.0.1; env MODELOG_HOST)")
    serve.add_argument("--port", type=int, default=int(_env("MODELOG_PORT", "8080") or 8080),
                       help="port to listen on (default 8080; env MODELOG_PORT)")
    serve.add_argument("--default-schema", default=_env("MODELOG_DEFAULT_SCHEMA", "unity.default"),
                       help="catalog.schema where MLflow model names without dots live "
                            "(default unity.default; env MODELOG_DEFAULT_SCHEMA)")
    serve.add_argument("--webhook-retention-days", type=float,
                       default=_env("MODELOG_WEBHOOK_RETENTION_DAYS", "30"),
                       help="how long finished webhook deliveries stay in the delivery log "
                            "(default 30; env MODELOG_WEBHOOK_RETENTION_DAYS)")
    serve.add_argument("--storage-root", default=_env("MODELOG_STORAGE_ROOT"),
                       help="where model version files go (default file://<data dir>/artifacts; "
                            "env MODELOG_STORAGE_ROOT)")
    serve.add_argument("--auth", choices=("tokens", "trusted-header"), default=_env("MODELOG_AUTH"),
                       help="require a bearer token on every request but health (tokens), or "
                            "also take the principal from a proxy's header (trusted-header); "
                            "default: tokens unless bound to loopback (env MODELOG_AUTH)")
    serve.add_argument("--trusted-header", default=_env("MODELOG_TRUSTED_HEADER", "X-Forwarded-User"),
                       help="the header a proxy names the user in, with --auth trusted-header "
                            "(default X-Forwarded-User; env MODELOG_TRUSTED_HEADER)")
    serve.add_argument("--insecure-no-auth", action="store_true",
                       help="no authentication even on a non-loopback bind: every request acts "
                            "as the admin")
    _database_options(serve)

    migrate = sub.add_parser("migrate", help="apply the SQL migrations (idempotent)")
    _database_options(migrate)

    proj = sub.add_parser("projections", help="read-model maintenance")
    proj_sub = proj.add_subparsers(dest="action", required=True)
    rebuild = proj_sub.add_parser(
        "rebuild", help="replay the whole log into fresh read-model tables and swap them in")
    rebuild.add_argument("name", nargs="?", choices=("inline", *CATCH_UP_NAMES),
                         help="one projection: 'inline' (the read models written with the "
                              "events) or a catch-up projection; default: all of them")
    rebuild.add_argument("--check", action="store_true",
                         help="rebuild aside and compare with the live tables; change nothing")
    _database_options(rebuild)
    status = proj_sub.add_parser("status", help="each catch-up projection's checkpoint and lag")
    _database_options(status)

    audit = sub.add_parser("audit", help="audit the event log")
    audit_sub = audit.add_subparsers(dest="action", required=True)
    verify = audit_sub.add_parser(
        "verify", help="walk the hash chain; report the head hash, or where the log was tampered")
    _database_options(verify)
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
    _database_options(report)

    replay = sub.add_parser("replay", help="print the registry (or one model) as it was at a "
                                           "time or log position, folded from the log")
    replay.add_argument("--as-of", required=True, metavar="T",
                        help="an ISO-8601 time with offset (2026-03-01T12:00:00Z) or a position")
    replay.add_argument("--model", metavar="NAME", help="just this model (catalog.schema.model)")
    _database_options(replay)

    webhook = sub.add_parser("webhook", help="webhooks: register, list, remove, delivery log")
    webhook_sub = webhook.add_subparsers(dest="action", required=True)
    create = webhook_sub.add_parser("create", help="register a URL for some event types")
    create.add_argument("--url", required=True, help="http:// or https:// URL to POST events to")
    create.add_argument("--events", required=True,
                        help="comma-separated webhook event names, e.g. MODEL_VERSION_CREATED,"
                             "MODEL_VERSION_ALIAS_CREATED")
    create.add_argument("--secret", required=True, help="shared secret that signs the deliveries")
    create.add_argument("--description")
    _database_options(create)
    for action, text in (("list", "the registered webhooks"), ("delete", "remove a webhook"),
                         ("deliveries", "a webhook's delivery log, newest first")):
        p = webhook_sub.add_parser(action, help=text)
        if action != "list":
            p.add_argument("id", help="the webhook's id")
        if action == "deliveries":
            p.add_argument("--limit", type=int, default=50)
        _database_options(p)

    token = sub.add_parser("token", help="bearer tokens: issue, list, revoke")
    token_sub = token.add_subparsers(dest="action", required=True)
    issue = token_sub.add_parser("create", help="issue a token (printed once) to a principal, "
                                                "creating the principal if new")
    issue.add_argument("--principal", required=True, help="who the token acts as")
    issue.add_argument("--expires", help="lifetime, e.g. 30d, 12h, 90m (default: none)")
    issue.add_argument("--admin", action="store_true", help="make the principal an admin")
    _database_options(issue)
    _database_options(token_sub.add_parser("list", help="every token: principal, created, "
                                                        "expires, last used, revoked"))
    revoke = token_sub.add_parser("revoke", help="revoke a token for good")
    revoke.add_argument("id", help="the token's id (the part after mlg_)")
    _database_options(revoke)

    sub.add_parser("version", help="print the version")
    return parser


@asynccontextmanager
async def _database(args: argparse.Namespace) -> AsyncIterator[str]:
    if args.database_url:
        yield args.database_url
        return
    from registry.eventstore.embedded import embedded_postgres

    async with embedded_postgres(Path(args.data_dir)) as url:
        yield url


async def _migrate(args: argparse.Namespace) -> int:
    import asyncpg

    from registry.eventstore.database import migrate

    async with _database(args) as url:
        conn = await asyncpg.connect(url)
        try:
            applied = await migrate(conn)
        finally:
            await conn.close()
    print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))
    return 0


@asynccontextmanager
async def _pool(args: argparse.Namespace) -> AsyncIterator["asyncpg.Pool"]:
    async with _database(args) as url, _migrated_pool(url) as pool:
        yield pool


@asynccontextmanager
async def _migrated_pool(url: str) -> AsyncIterator["asyncpg.Pool"]:
    from registry.eventstore.database import create_pool, migrate

    pool = await create_pool(url, min_size=1, max_size=4)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        yield pool
    finally:
        await pool.close()


async def _rebuild(args: argparse.Namespace) -> int:
    import projections
    from projections import catch_up
    from projections.rebuild import rebuild

    failed = 0
    async with _database(args) as url, _migrated_pool(url) as pool:
        if args.name in (None, "inline"):
            result = await rebuild(pool, swap=not args.check, progress=_bar("replaying"), dsn=url)
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
            bar = _bar(f"{projection.name}")
            if args.check:
                position, differences = await catch_up.check(pool, projection, progress=bar)
                print(file=sys.stderr)
                if differences:
                    print(f"{projection.name} differs from a replay of the log up to its "
                          f"checkpoint {position}: " + ", ".join(differences))
                    failed = 1
                else:
                    print(f"{projection.name} equals a replay of the log up to its checkpoint "
                          f"{position}")
                continue
            caught = await catch_up.rebuild(pool, projection, progress=bar)
            print(file=sys.stderr)
            rate = caught.events / caught.seconds if caught.seconds else 0
            print(f"{projection.name}: replayed {caught.events} events in {caught.seconds:.2f}s "
                  f"({rate:,.0f} events/s), now at position {caught.position}")
    return failed


async def _status(args: argparse.Namespace) -> int:
    import projections
    from projections.catch_up import checkpoint
    from registry.eventstore import head_position

    async with _pool(args) as pool:
        head = await head_position(pool)
        print(f"log head: {head}")
        for projection in projections.catch_up_projections():
            position = await checkpoint(pool, projection.name)
            print(f"{projection.name}: position {position}, lag {head - position}")
    return 0


def _bar(label: str) -> Callable[[int, int], None]:
    def progress(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        print(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="",
              file=sys.stderr, flush=True)

    return progress


async def _verify(args: argparse.Namespace) -> int:
    import asyncpg

    from registry.eventstore.chain import verify
    from registry.eventstore.database import init_connection, migrate

    async with _database(args) as url:
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn)
            await init_connection(conn)
            verdict = await verify(conn, _bar("verifying"))
        finally:
            await conn.close()
    print(file=sys.stderr)
    if verdict.ok:
        print(f"OK: {verdict.count} events, head position {verdict.head_position}, "
              f"head hash {verdict.head_hash}")
        return 0
    print(f"TAMPERED at position {verdict.position}: {verdict.problem}. The chain holds for "
          f"positions 1..{verdict.head_position} (hash {verdict.head_hash}).")
    return 2


async def _replay(args: argparse.Namespace) -> int:
    import orjson

    from registry.cli.replay import replay
    from registry.domain.errors import InvalidArgument

    async with _pool(args) as pool:
        try:
            document = await replay(pool, args.as_of, args.model, _bar("replaying"))
            print(file=sys.stderr)
        except InvalidArgument as exc:
            print(f"modelog replay: {exc}", file=sys.stderr)
            return 2
    if document is None:
        print(f"modelog replay: model {args.model!r} did not exist then", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    return 0


def _report(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    import asyncpg

    from registry.audit.compliance import Report
    from registry.audit.formats import to_csv, to_json
    from registry.audit.html import to_html
    from registry.audit.queries import object_prefix
    from registry.audit.report import build, window
    from registry.domain.errors import InvalidArgument
    from registry.eventstore.database import READ_MODEL_SCHEMA, init_connection, migrate
    from registry.reads.as_of import parse_point

    async def gather() -> Report:
        since, until = (None if text is None else parse_point(text, flag)
                        for text, flag in ((args.since, "--since"), (args.until, "--until")))
        prefix = None if args.object is None else object_prefix(args.object)
        async with _database(args) as url:
            # The read model's schema: an object prefix is looked up in model_names.
            conn = await asyncpg.connect(
                url, server_settings={"search_path": f"{READ_MODEL_SCHEMA}, public"})
            try:
                await migrate(conn)
                await init_connection(conn)
                w = await window(conn, since, until, prefix, datetime.now(UTC))
                return await build(conn, w, _bar("reading"))
            finally:
                await conn.close()

    try:
        report = asyncio.run(gather())
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


async def _webhook(args: argparse.Namespace) -> int:
    from uuid import UUID

    import projections
    from registry.domain.errors import DomainError
    from registry.domain.principals import ADMIN
    from registry.eventstore import EventStore
    from registry.service.write_model import RegistryWriteModel
    from registry.webhooks import service

    async with _pool(args) as pool:
        store = EventStore(pool, projections.inline_projector(), RegistryWriteModel())
        await store.start()
        try:
            webhook_id = UUID(args.id) if hasattr(args, "id") else None
            if args.action == "create":
                w = await service.Webhooks(store).create(
                    url=args.url, events=[e.strip() for e in args.events.split(",") if e.strip()],
                    secret=args.secret, description=args.description, actor=ADMIN, client="modelog-cli")
                print(f"created webhook {w.id}: {w.url} on {','.join(w.events)}")
            elif args.action == "list":
                for w in await service.list_all(pool):
                    print(f"{w.id}  {'active' if w.active else 'paused'}  {w.url}  {','.join(w.events)}")
            elif args.action == "delete":
                await service.Webhooks(store).delete(webhook_id, actor=ADMIN, client="modelog-cli")
                print(f"deleted webhook {webhook_id}")
            else:
                await service.get(pool, webhook_id)
                for d in await service.deliveries(pool, webhook_id, limit=args.limit):
                    print(f"{d['id']}  {d['event']}  position={d['position']}  {d['status']}  "
                          f"attempts={d['attempts']}  code={d['last_status_code']}  "
                          f"error={d['last_error'] or '-'}")
        except (DomainError, ValueError) as exc:
            print(f"error: {getattr(exc, 'message', exc)}", file=sys.stderr)
            return 1
        finally:
            await store.close()
    return 0


async def _token(args: argparse.Namespace) -> int:
    import projections
    from registry.auth.store import Auth, directory, last_used
    from registry.domain.errors import DomainError
    from registry.domain.principals import ADMIN, parse_duration
    from registry.eventstore import EventStore
    from registry.service.write_model import RegistryWriteModel

    def when(t: object) -> str:
        return "-" if t is None else f"{t:%Y-%m-%dT%H:%M:%SZ}"

    async with _pool(args) as pool:
        store = EventStore(pool, projections.inline_projector(), RegistryWriteModel())
        await store.start()
        try:
            auth = Auth(store)
            if args.action == "create":
                expires_in = None if args.expires is None else parse_duration(args.expires)
                token, issued = await auth.issue(args.principal, actor=ADMIN, expires_in=expires_in,
                                                 admin=True if args.admin else None,
                                                 client="modelog-cli")
                print(f"issued token {issued.id} to {issued.principal} (expires "
                      f"{when(issued.expires_at)}); it is shown only this once:", file=sys.stderr)
                print(token)
            elif args.action == "list":
                found, used = await directory(pool), await last_used(pool)
                print("id                principal  admin  created  expires  last_used  revoked")
                for t in sorted(found.tokens.values(), key=lambda t: t.created_at):
                    admin = getattr(found.principals.get(t.principal), "admin", False)
                    print(f"{t.id}  {t.principal}  {'admin' if admin else '-'}  {when(t.created_at)}  "
                          f"{when(t.expires_at)}  {when(used.get(t.id))}  {when(t.revoked_at)}")
            else:
                await auth.revoke(args.id, actor=ADMIN, client="modelog-cli")
                print(f"revoked token {args.id}")
        except DomainError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 1
        finally:
            await store.close()
    return 0


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from registry.http.app import create_app

    try:  # a faster event loop where the platform has one (Linux, macOS)
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    settings = Settings(host=args.host, port=args.port, data_dir=Path(args.data_dir),
                        database_url=args.database_url, default_schema=args.default_schema,
                        storage_root=args.storage_root, auth=args.auth,
                        insecure_no_auth=args.insecure_no_auth, trusted_header=args.trusted_header,
                        webhook_retention_days=args.webhook_retention_days)
    if args.auth and args.insecure_no_auth:
        print("modelog serve: --insecure-no-auth contradicts --auth", file=sys.stderr)
        return 2
    web.run_app(create_app(settings), host=settings.host, port=settings.port, access_log=None,
                print=lambda msg: print(msg, file=sys.stderr))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "version":
        print(f"modelog {__version__}")
        return 0
    from registry.logs import configure

    configure(args.log_format)
    if args.command == "serve":
        return _serve(args)
    if args.command == "migrate":
        return asyncio.run(_migrate(args))
    if args.command == "projections":
        return asyncio.run(_rebuild(args) if args.action == "rebuild" else _status(args))
    if args.command == "replay":
        return asyncio.run(_replay(args))
    if args.command == "audit":
        return asyncio.run(_verify(args)) if args.action == "verify" else _report(args)
    if args.command == "webhook":
        return asyncio.run(_webhook(args))
    if args.command == "token":
        return asyncio.run(_token(args))
    raise AssertionError(args.command)
