"""Reads from the inline read models. Never replays the log; one query per object or per page,
child rows (tags, aliases) folded in as JSON objects, never a query per row.

Results are the domain's own dataclasses, so every API surface formats one shape whether the
object comes from here or from a replay (`as_of`).
"""

import asyncio
import base64
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any, TypeVar
from uuid import UUID

import asyncpg

from registry.domain.catalogs import Catalog
from registry.domain.errors import InvalidArgument
from registry.domain.models import Model, ModelVersion, TransitionRequest
from registry.domain.names import STAGES
from registry.domain.schemas import Schema

Db = asyncpg.Pool | asyncpg.Connection
T = TypeVar("T")
U = TypeVar("U")
SLICE = 500  # rows made into objects between two turns of the event loop (about 2.5 ms)


async def in_slices(items: Sequence[T], make: Callable[[T], U]) -> list[U]:
    """`make` of every item, letting the event loop run other requests after every `SLICE`: a
    page of 10,000 versions (MLflow's largest) takes some 50 ms of Python to convert, which no
    other request should wait for in one piece."""
    out: list[U] = []
    for start in range(0, len(items), SLICE):
        if start:
            await asyncio.sleep(0)
        out += map(make, items[start:start + SLICE])
    return out


def encode_token(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


MAX_INT = 2**31 - 1  # PostgreSQL integer, the type of version numbers and stream versions


def _comparable(key: Any, kind: type, maximum: int = MAX_INT) -> bool:
    if type(key) is not kind:  # `type`, not isinstance: True is no version number
        return False
    if kind is int:
        return 0 <= key <= maximum
    if kind is str:
        # PostgreSQL strings hold neither NUL nor a lone surrogate (JSON's "\ud800" decodes to
        # one, which the driver then fails to encode: a 500 in the query).
        return "\x00" not in key and not any("\ud800" <= ch <= "\udfff" for ch in key)
    return all(type(k) in (str, int) and _comparable(k, type(k)) for k in key)


def decode_token(token: str | None, kind: type[str] | type[int] | type[list],
                 maximum: int = MAX_INT) -> Any:
    """The key `encode_token` wrote; `kind` is the type of the list's key (a name or a number,
    at most `maximum`: log positions are bigints).

    A token is client input: anything but a key of that type, one SQL can compare, is refused
    here rather than failing in the query.
    """
    if not token:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except Exception:
        key = None
    if not _comparable(key, kind, maximum):
        raise InvalidArgument("invalid page_token", field="page_token")
    return key


async def fetch_planned(db: Db, sql: str, *args: Any) -> list[asyncpg.Record]:
    """Rows of a search whose best plan depends on its values (a name pattern, a tag): planned
    for these values every time. A cached statement's generic plan guesses a pattern's
    selectivity: `name LIKE $1` would walk the whole name order for a pattern that matches a
    handful of rows, rather than look them up through the trigram index."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            return await fetch_planned(conn, sql, *args)
    async with db.transaction():
        await db.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        return await db.fetch(sql, *args)


# How many models a tag must select before a search tests ids against the set of them (hashed
# once, `mlflow_search.tag_set`), and how many before it looks the tag up per model it passes
# instead: below the first, the planner's join from the tag index is cheapest (it sorts a few
# rows); above the second, the page finds its rows within a few thousand models, and hashing the
# whole set would cost more than that.
FEW_TAGGED, MANY_TAGGED = 1_000, 20_000


async def tagged(db: Db, key: str, value: str | None) -> int:
    """How many models carry tag `key` (with `value`, unless None), counted up to MANY_TAGGED:
    an index-only range of at most that many entries of (key, value, model id)."""
    value_is = "" if value is None else "AND value = $2 "
    return await db.fetchval(
        f"SELECT count(*) FROM (SELECT 1 FROM model_tags WHERE key = $1 {value_is}"
        f"LIMIT {MANY_TAGGED}) x", key, *([] if value is None else [value]))


async def hash_tag(db: Db, key: str, value: str | None) -> bool:
    """Whether a search for models with this tag should test ids against its hashed set."""
    return FEW_TAGGED <= await tagged(db, key, value) < MANY_TAGGED


def _catalog(r: asyncpg.Record) -> Catalog:
    return Catalog(r["id"], r["name"], r["comment"], r["owner"], r["created_at"], r["created_by"],
                   r["updated_at"], r["updated_by"], r["properties"])


def _schema(r: asyncpg.Record) -> Schema:
    return Schema(r["id"], r["catalog_name"], r["name"], r["comment"], r["owner"], r["created_at"],
                  r["created_by"], r["updated_at"], r["updated_by"], r["properties"])


async def get_catalog(db: Db, name: str) -> Catalog | None:
    r = await db.fetchrow("SELECT * FROM catalogs WHERE name = $1", name)
    return None if r is None else _catalog(r)


# Keyset pages: the first page and the pages after a key are separate statements, each a plain
# index range. One statement with `$1 IS NULL OR name > $1` gets, once cached, a generic plan that
# cannot bound the scan by a parameter it may find NULL: it reads every earlier row, so a page
# cost O(depth). The limit is written into the statement (it is always an int we computed): a
# generic plan assumes a `LIMIT $n` keeps a tenth of the table.


async def list_catalogs(db: Db, after: str | None, limit: int) -> list[Catalog]:
    if after is None:
        rows = await db.fetch(f"SELECT * FROM catalogs ORDER BY name LIMIT {int(limit)}")
    else:
        rows = await db.fetch(
            f"SELECT * FROM catalogs WHERE name > $1 ORDER BY name LIMIT {int(limit)}", after)
    return [_catalog(r) for r in rows]


async def get_schema(db: Db, catalog: str, name: str) -> Schema | None:
    r = await db.fetchrow("SELECT * FROM schemas WHERE catalog_name = $1 AND name = $2",
                          catalog, name)
    return None if r is None else _schema(r)


async def list_schemas(db: Db, catalog: str, after: str | None, limit: int) -> list[Schema]:
    after_key = "" if after is None else "AND name > $2 "
    rows = await db.fetch(
        f"SELECT * FROM schemas WHERE catalog_name = $1 {after_key}"
        f"ORDER BY name LIMIT {int(limit)}", catalog, *([] if after is None else [after]))
    return [_schema(r) for r in rows]


# A model's or a version's row with its tags (and a model's aliases) as JSON objects: one query
# answers a read, and one per page a list.
MODEL_COLUMNS = (
    "m.*, coalesce((SELECT jsonb_object_agg(t.key, t.value) FROM model_tags t "
    "WHERE t.model_id = m.id), '{}') AS tag_map, coalesce((SELECT jsonb_object_agg(a.alias, "
    "a.version) FROM model_aliases a WHERE a.model_id = m.id), '{}') AS alias_map")
VERSION_COLUMNS = (
    "v.*, coalesce((SELECT jsonb_object_agg(t.key, t.value) FROM version_tags t "
    "WHERE t.model_id = v.model_id AND t.version = v.version), '{}') AS tag_map, "
    "coalesce((SELECT jsonb_object_agg(r.stage, jsonb_build_array(r.comment, r.requested_by, "
    "r.requested_at)) FROM transition_requests r WHERE r.model_id = v.model_id "
    "AND r.version = v.version), '{}') AS request_map")


def model_from_row(r: asyncpg.Record) -> Model:
    return Model(id=r["id"], catalog_name=r["catalog_name"], schema_name=r["schema_name"],
                 name=r["name"], description=r["description"], owner=r["owner"],
                 created_at=r["created_at"], created_by=r["created_by"],
                 updated_at=r["updated_at"], updated_by=r["updated_by"],
                 tags=MappingProxyType(dict(sorted(r["tag_map"].items()))),
                 aliases=MappingProxyType(dict(sorted(r["alias_map"].items()))))


async def get_model(db: Db, full_name: str) -> Model | None:
    r = await db.fetchrow(f"SELECT {MODEL_COLUMNS} FROM registered_models m "
                          "WHERE m.full_name = $1", full_name)
    return None if r is None else model_from_row(r)


def like_pattern(glob: str) -> str:
    """A user's name pattern (`*` and `?` wildcards, or SQL `%`/`_`) as a LIKE pattern."""
    escaped = glob.replace("\\", "\\\\")
    if "*" in glob or "?" in glob:
        escaped = escaped.replace("%", "\\%").replace("_", "\\_")
        escaped = escaped.replace("*", "%").replace("?", "_")
    return escaped


def version_from_row(r: asyncpg.Record) -> ModelVersion:
    return ModelVersion(
        version=r["version"], source=r["source"], run_id=r["run_id"], run_link=r["run_link"],
        logged_model_id=r["logged_model_id"], description=r["description"],
        storage_location=r["storage_location"], status=r["status"],
        status_message=r["status_message"], stage=r["stage"],
        tags=MappingProxyType(dict(sorted(r["tag_map"].items()))),
        created_at=r["created_at"], created_by=r["created_by"], updated_at=r["updated_at"],
        updated_by=r["updated_by"],
        requests=MappingProxyType({
            stage: TransitionRequest(stage, comment, by, datetime.fromisoformat(at))
            for stage, (comment, by, at) in sorted(r["request_map"].items())}))


async def get_version(db: Db, model_id: UUID, version: int) -> ModelVersion | None:
    r = await db.fetchrow(f"SELECT {VERSION_COLUMNS} FROM model_versions v "
                          "WHERE v.model_id = $1 AND v.version = $2", model_id, version)
    return None if r is None else version_from_row(r)


LATEST_VERSIONS = (
    f"SELECT latest.* FROM unnest($1::uuid[]) AS m(id) CROSS JOIN unnest($2::text[]) AS s(stage) "
    f"CROSS JOIN LATERAL (SELECT {VERSION_COLUMNS}, (SELECT min(f.version) "
    "  FROM model_versions f WHERE f.model_id = m.id AND f.stage = s.stage) AS first_in_stage "
    "  FROM model_versions v WHERE v.model_id = m.id AND v.stage = s.stage "
    "  ORDER BY v.version DESC LIMIT 1) latest ORDER BY latest.first_in_stage")


async def latest_versions(db: Db, model_ids: Sequence[UUID]) -> dict[UUID, list[ModelVersion]]:
    """Per model, the newest live version in each stage (MLflow's `latest_versions`), stages in
    MLflow's order: that in which the model's versions, oldest first, first reach them. Two
    probes of model_versions_stage per model and stage: no model's history is scanned."""
    rows = await db.fetch(LATEST_VERSIONS, list(model_ids), list(STAGES))
    out: dict[UUID, list[ModelVersion]] = defaultdict(list)
    for r, mv in zip(rows, await in_slices(rows, version_from_row), strict=True):
        out[r["model_id"]].append(mv)
    return out


async def list_versions(db: Db, model_id: UUID, after: int | None, limit: int) -> list[ModelVersion]:
    after_key = "" if after is None else "AND v.version > $2 "
    rows = await db.fetch(
        f"SELECT {VERSION_COLUMNS} FROM model_versions v WHERE v.model_id = $1 {after_key}"
        f"ORDER BY v.version LIMIT {int(limit)}", model_id, *([] if after is None else [after]))
    return [version_from_row(r) for r in rows]


async def alias_of(db: Db, full_name: str, alias: str
                   ) -> tuple[UUID | None, tuple[ModelVersion, list[str]] | None]:
    """The model named `full_name` (None: no such model) and the version `alias` points at, with
    that version's aliases (None: no such model or alias), in one query: a cached alias read
    depends on the model whether or not it has the alias."""
    r = await db.fetchrow(
        f"SELECT m.id AS found_model_id, {VERSION_COLUMNS}, array(SELECT x.alias "
        "FROM model_aliases x WHERE x.model_id = v.model_id AND x.version = v.version "
        "ORDER BY x.alias) AS aliases FROM registered_models m "
        "LEFT JOIN model_aliases a ON a.model_id = m.id AND a.alias = $2 "
        "LEFT JOIN model_versions v ON v.model_id = m.id AND v.version = a.version "
        "WHERE m.full_name = $1", full_name, alias)
    if r is None:
        return None, None
    return r["found_model_id"], (None if r["version"] is None
                                 else (version_from_row(r), list(r["aliases"])))
