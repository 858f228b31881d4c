"""`modelog token create|list|revoke`: bearer tokens, managed on the database directly, without
a running server or a token to call it with.

Issuing and revoking are events, appended as the local admin like any other write."""

import argparse
import asyncio
import sys

from registry.cli.common import Subparsers, database_options, pool


def add_parser(subparsers: Subparsers) -> None:
    token = subparsers.add_parser("token", help="bearer tokens: issue, list, revoke")
    token_sub = token.add_subparsers(dest="action", required=True)
    issue = token_sub.add_parser("create", help="issue a token (printed once) to a principal, "
                                                "creating the principal if new")
    issue.add_argument("--principal", required=True, help="who the token acts as")
    issue.add_argument("--expires", help="lifetime, e.g. 30d, 12h, 90m (default: none)")
    issue.add_argument("--admin", action="store_true", help="make the principal an admin")
    database_options(issue)
    database_options(token_sub.add_parser("list", help="every token: principal, created, "
                                                       "expires, last used, revoked"))
    revoke = token_sub.add_parser("revoke", help="revoke a token for good")
    revoke.add_argument("id", help="the token's id (the part after mlg_)")
    database_options(revoke)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_token(args))


def _when(t: object) -> str:
    return "-" if t is None else f"{t:%Y-%m-%dT%H:%M:%SZ}"


async def _token(args: argparse.Namespace) -> int:
    """The new token alone on stdout (the note about it on stderr), so a script can capture it;
    exit 1 with `error: ...` on stderr for an unknown token or a bad --expires."""
    from registry import bootstrap
    from registry.auth.store import Auth, directory, last_used
    from registry.domain.errors import DomainError
    from registry.domain.principals import ADMIN, parse_duration

    async with pool(args) as db, bootstrap.writing(db) as writing:
        try:
            auth = Auth(writing.store)
            if args.action == "create":
                expires_in = None if args.expires is None else parse_duration(args.expires)
                token, issued = await auth.issue(args.principal, actor=ADMIN, expires_in=expires_in,
                                                 admin=True if args.admin else None,
                                                 client="modelog-cli")
                print(f"issued token {issued.id} to {issued.principal} (expires "
                      f"{_when(issued.expires_at)}); it is shown only this once:", file=sys.stderr)
                print(token)
            elif args.action == "list":
                found, used = await directory(db), await last_used(db)
                print("id                principal  admin  created  expires  last_used  revoked")
                for t in sorted(found.tokens.values(), key=lambda t: t.created_at):
                    admin = getattr(found.principals.get(t.principal), "admin", False)
                    print(f"{t.id}  {t.principal}  {'admin' if admin else '-'}  {_when(t.created_at)}  "
                          f"{_when(t.expires_at)}  {_when(used.get(t.id))}  {_when(t.revoked_at)}")
            else:
                await auth.revoke(args.id, actor=ADMIN, client="modelog-cli")
                print(f"revoked token {args.id}")
        except DomainError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 1
    return 0
