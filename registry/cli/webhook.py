"""`modelog webhook create|list|delete|deliveries`: manage webhooks without a running server.

Registering and removing are events, appended as the local admin like any other write."""

import argparse
import asyncio
import sys

from registry.cli.common import Subparsers, database_options, pool


def add_parser(subparsers: Subparsers) -> None:
    webhook = subparsers.add_parser("webhook", help="webhooks: register, list, remove, delivery log")
    webhook_sub = webhook.add_subparsers(dest="action", required=True)
    create = webhook_sub.add_parser("create", help="register a URL for some event types")
    create.add_argument("--url", required=True, help="http:// or https:// URL to POST events to")
    create.add_argument("--events", required=True,
                        help="comma-separated webhook event names, e.g. MODEL_VERSION_CREATED,"
                             "MODEL_VERSION_ALIAS_CREATED")
    create.add_argument("--secret", required=True, help="shared secret that signs the deliveries")
    create.add_argument("--description")
    database_options(create)
    for action, text in (("list", "the registered webhooks"), ("delete", "remove a webhook"),
                         ("deliveries", "a webhook's delivery log, newest first")):
        p = webhook_sub.add_parser(action, help=text)
        if action != "list":
            p.add_argument("id", help="the webhook's id")
        if action == "deliveries":
            p.add_argument("--limit", type=int, default=50)
        database_options(p)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_webhook(args))


async def _webhook(args: argparse.Namespace) -> int:
    """Exit 1 with `error: ...` on stderr for an unknown webhook, a bad id, URL or event name."""
    from uuid import UUID

    from registry import bootstrap
    from registry.domain.errors import DomainError
    from registry.domain.principals import ADMIN
    from registry.webhooks import service

    async with pool(args) as db, bootstrap.writing(db) as writing:
        store = writing.store
        try:
            webhook_id = UUID(args.id) if hasattr(args, "id") else None
            if args.action == "create":
                w = await service.Webhooks(store).create(
                    url=args.url, events=[e.strip() for e in args.events.split(",") if e.strip()],
                    secret=args.secret, description=args.description, actor=ADMIN, client="modelog-cli")
                print(f"created webhook {w.id}: {w.url} on {','.join(w.events)}")
            elif args.action == "list":
                for w in await service.list_all(db):
                    mlflow = f"  (MLflow webhook {w.name!r})" if w.flavor == "mlflow" else ""
                    print(f"{w.id}  {'active' if w.active else 'paused'}  {w.url}  "
                          f"{','.join(w.events)}{mlflow}")
            elif args.action == "delete":
                await service.Webhooks(store).delete(webhook_id, actor=ADMIN, client="modelog-cli")
                print(f"deleted webhook {webhook_id}")
            else:
                await service.get(db, webhook_id)
                for d in await service.deliveries(db, webhook_id, limit=args.limit):
                    print(f"{d['id']}  {d['event']}  position={d['position']}  {d['status']}  "
                          f"attempts={d['attempts']}  code={d['last_status_code']}  "
                          f"error={d['last_error'] or '-'}")
        except (DomainError, ValueError) as exc:
            print(f"error: {getattr(exc, 'message', exc)}", file=sys.stderr)
            return 1
    return 0
