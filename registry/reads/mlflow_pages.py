"""MLflow's `search_registered_models` and `search_model_versions` over the read models: its filter
and order_by languages (registry/reads/mlflow_search.py) as one keyset-paged query per page.

MLflow's names are short in the default schema (`iris` for `unity.default.iris`) and full
elsewhere, so `name` compares and sorts on that shown name. Page tokens carry the last row's sort
keys. What the caller may not read is left out after paging (`keep`), so hidden rows still page on.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from registry.domain.errors import InvalidArgument
from registry.domain.models import Model, ModelVersion
from registry.reads import mlflow_search as s
from registry.reads import queries

# Each sort field's column and the type a page token's value is cast to. A token carries times
# as ISO text (JSON has no time type): the driver sends text, PostgreSQL parses it.
_MODEL_ORDER = {"name": ("mlname", "text"), "last_updated_timestamp": ("m.updated_at",
                                                                        "text::timestamptz"),
                "timestamp": ("m.updated_at", "text::timestamptz"),
                "creation_timestamp": ("m.created_at", "text::timestamptz")}
_VERSION_ORDER = {"name": ("mlname", "text"), "version_number": ("v.version", "int"),
                  "creation_timestamp": ("v.created_at", "text::timestamptz"),
                  "last_updated_timestamp": ("v.updated_at", "text::timestamptz"),
                  "timestamp": ("v.updated_at", "text::timestamptz")}
_VERSION_FIELDS = {"name": None, "run_id": "v.run_id", "source_path": "v.source",
                   "version_number": "v.version"}


@dataclass(frozen=True, slots=True)
class VersionHit:
    full_name: str
    version: ModelVersion
    aliases: list[str]


@dataclass(frozen=True, slots=True)
class Search:
    """One search request: the default schema names are shown in, and MLflow's parameters."""

    default_schema: str
    filter: str | None
    order_by: list[str]
    page_token: str | None
    limit: int


async def models(db: queries.Db, q: Search, keep: Callable[[str], bool]
                 ) -> tuple[list[Model], str | None]:
    clauses = s.parse_filter(q.filter, frozenset({"name"}))
    p = s.Params()
    mlname = _mlname(p, q.default_schema)
    where = [s.compare(mlname, c, p) for c in clauses if c.kind == "attribute"]
    where += s.tag_filters(clauses, "model_tags", "t.model_id = m.id", p)
    rows, token = await _keyset_page(
        db, q, p, where, mlname, _MODEL_ORDER, ["name ASC"],
        [s.OrderKey("m.full_name", False, "::text")], queries.MODEL_COLUMNS, "registered_models m")
    return [m for m in map(queries.model_from_row, rows) if keep(m.full_name)], token


async def versions(db: queries.Db, q: Search, keep: Callable[[str], bool]
                   ) -> tuple[list[VersionHit], str | None]:
    clauses = s.parse_filter(q.filter, frozenset(_VERSION_FIELDS))
    p = s.Params()
    mlname = _mlname(p, q.default_schema)
    where = [s.compare(_VERSION_FIELDS[c.key] or mlname, c, p,
                       "::int" if c.key == "version_number" else "")
             for c in clauses if c.kind == "attribute"]
    where += s.tag_filters(clauses, "version_tags",
                           "t.model_id = v.model_id AND t.version = v.version", p)
    rows, token = await _keyset_page(
        db, q, p, where, mlname, _VERSION_ORDER, ["name ASC", "version_number DESC"],
        [s.OrderKey("m.full_name", False, "::text"), s.OrderKey("v.version", False, "::int")],
        f"{queries.VERSION_COLUMNS}, m.full_name",
        "model_versions v JOIN registered_models m ON m.id = v.model_id")
    rows = [r for r in rows if keep(r["full_name"])]
    aliases: dict[UUID, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for a in await db.fetch("SELECT model_id, alias, version FROM model_aliases "
                            "WHERE model_id = ANY($1) ORDER BY alias",
                            list({r["model_id"] for r in rows})):
        aliases[a["model_id"]][a["version"]].append(a["alias"])
    return [VersionHit(r["full_name"], mv, aliases[r["model_id"]][mv.version])
            for r, mv in zip(rows, map(queries.version_from_row, rows), strict=True)], token


def _mlname(p: s.Params, default_schema: str) -> str:
    catalog, _, schema = default_schema.partition(".")
    return (f"(CASE WHEN m.catalog_name = {p(catalog)} AND m.schema_name = {p(schema)} "
            "THEN m.name ELSE m.full_name END)")


def _token(row: asyncpg.Record, n: int) -> list[Any]:
    return [v.isoformat() if isinstance(v, datetime) else v for v in list(row)[-n:]]


async def _keyset_page(
    db: queries.Db, q: Search, p: s.Params, where: list[str], mlname: str,
    order_columns: dict[str, tuple[str, str]], default_order: list[str],
    tiebreak: list[s.OrderKey], columns: str, tables: str,
) -> tuple[list[asyncpg.Record], str | None]:
    """One page of a search, ordered by `order_by` then `tiebreak`, after the row the page token
    names; with the token of the next page, if any."""
    keys = [s.OrderKey(mlname if f == "name" else order_columns[f][0], desc,
                       f"::{order_columns[f][1]}")
            for f, desc in s.parse_order_by(q.order_by, order_columns, default_order)]
    keys += tiebreak
    if q.page_token:
        where.append(s.keyset_after(keys, queries.decode_token(q.page_token, list), p))
    select_keys = ", ".join(f"{k.expr} AS k{i}" for i, k in enumerate(keys))
    # `mlname` is selected even when nothing filters or orders by it: its parameters must appear
    # in the statement, or PostgreSQL cannot type them (a 500 on `order_by=creation_timestamp`).
    sql = (f"SELECT {columns}, {mlname} AS mlname, {select_keys} FROM {tables} "
           f"WHERE {' AND '.join(where) or 'TRUE'} ORDER BY "
           + ", ".join(f"{k.expr} {'DESC' if k.descending else 'ASC'}" for k in keys)
           + f" LIMIT {q.limit + 1}")
    try:
        rows = await db.fetch(sql, *p.values)
    except asyncpg.DataError as exc:  # a value the filter or page token compares cannot be cast
        raise InvalidArgument(f"invalid filter or page_token: {exc}", field="filter") from None
    token = None
    if len(rows) > q.limit:
        token = queries.encode_token(_token(rows[q.limit - 1], len(keys)))
    return rows[: q.limit], token
