"""`modelog replay --as-of T`: the registry (or one model) as it was, folded from the log, with
who held which privileges on each object then.

`modelog --help` imports this module to build its parser, so the fold's own imports (the domain,
the event store, the HTTP shapes: most of a start-up) are made inside the functions that use them."""

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from registry.cli.common import Subparsers, bar, database_options, pool

if TYPE_CHECKING:
    import asyncpg

    from registry.domain.privileges import Acl
    from registry.domain.state import RegistryState

CHUNK = 10_000
Progress = Callable[[int, int], None]  # (position reached, position replayed to)


def add_parser(subparsers: Subparsers) -> None:
    replay = subparsers.add_parser("replay", help="print the registry (or one model) as it was at a "
                                                  "time or log position, folded from the log")
    replay.add_argument("--as-of", required=True, metavar="T",
                        help="an ISO-8601 time with offset (2026-03-01T12:00:00Z) or a position")
    replay.add_argument("--model", metavar="NAME", help="just this model (catalog.schema.model)")
    database_options(replay)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_replay(args))


async def _replay(args: argparse.Namespace) -> int:
    """The document as indented JSON on stdout; exit 2 on a bad --as-of, 1 if --model did not
    exist then."""
    import orjson

    from registry.domain.errors import InvalidArgument

    async with pool(args) as db:
        try:
            document = await replay(db, args.as_of, args.model, bar("replaying"))
            print(file=sys.stderr)
        except InvalidArgument as exc:
            print(f"modelog replay: {exc}", file=sys.stderr)
            return 2
    if document is None:
        print(f"modelog replay: model {args.model!r} did not exist then", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    return 0


async def registry_at(db: "asyncpg.Pool", position: int,
                      progress: Progress | None = None) -> "RegistryState":
    """Every catalog, schema and model at `position`: a fold of the whole log up to there."""
    from registry.domain.state import RegistryState
    from registry.eventstore import read_all
    from registry.eventstore.domain_events import domain_event, stamp

    state, reached = RegistryState(), 0
    while reached < position:
        events = await read_all(db, after_position=reached, until_position=position, limit=CHUNK)
        if not events:
            break
        for e in events:
            state.apply(e.stream_id, domain_event(e), stamp(e))
        reached = events[-1].position
        if progress is not None:
            progress(reached, position)
    return state


def model_document(model: Any, acl: "Acl | None") -> dict[str, Any]:
    from registry.http.native.shapes import model_json, version_json

    return {**model_json(model), **_grants(acl),
            "versions": [version_json(model, mv) for _, mv in sorted(model.versions.items())]}


def _grants(acl: "Acl | None") -> dict[str, Any]:
    """Who held what on the object then (its owner is in its own document)."""
    from registry.domain.privileges import Acl
    from registry.http.permissions import permissions_list

    return permissions_list([acl] if acl is not None else [Acl("")], None)


def registry_document(state: "RegistryState") -> dict[str, Any]:
    from registry.domain.models import stream_id
    from registry.http.native.shapes import catalog_json, schema_json

    live = sorted((m for m in state.models.values() if not m.deleted), key=lambda m: m.full_name)
    return {
        "catalogs": [{**catalog_json(c), **_grants(state.acls.get(state.catalog_streams[n]))}
                     for n, c in sorted(state.catalogs.items())],
        "schemas": [{**schema_json(s), **_grants(state.acls.get(state.schema_streams[key]))}
                    for key, s in sorted(state.schemas.items())],
        "models": [model_document(m, state.acls.get(stream_id(m.id))) for m in live],
    }


async def replay(db: "asyncpg.Pool", when: str, model: str | None = None,
                 progress: Progress | None = None) -> dict[str, Any] | None:
    """The document `modelog replay` prints; None if `model` did not exist at `when`."""
    from registry.domain.privileges import Securable, SecurableType
    from registry.reads import as_of

    position = await as_of.resolve(db, when)
    recorded_at = await db.fetchval("SELECT recorded_at FROM events WHERE position = $1", position)
    header = {"as_of": {"position": position,
                        "recorded_at": None if recorded_at is None else recorded_at.isoformat()}}
    if model is not None:
        found = await as_of.model_at(db, model, position)
        if found is None:
            return None
        chain, _ = await as_of.chain_at(
            db, Securable(SecurableType.REGISTERED_MODEL, model), position)
        return {**header, "model": model_document(found, chain[-1] if chain else None)}
    return {**header, **registry_document(await registry_at(db, position, progress))}
