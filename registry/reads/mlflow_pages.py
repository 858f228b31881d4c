"""MLflow's `search_registered_models` and `search_model_versions` over the read models: its filter
and order_by languages (registry/reads/mlflow_search.py) as one keyset-paged query per page.

MLflow's registry is flat: only the workspace schema's models are searched, by their own names.
Orders end as MLflow's do (name ascending, then version descending, unless the caller ordered by
them), which makes every order total, so page tokens carry the last row's sort keys. What the
caller may not read is left out after paging (by the reader), so hidden rows still page on.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from registry.domain.errors import InvalidArgument
from registry.domain.models import Model, ModelVersion
from registry.reads import mlflow_search as s
from registry.reads import queries

# Each sort field's column and the type a page token's value is cast to. A token carries times
# as ISO text (JSON has no time type): the driver sends text, PostgreSQL parses it.
_MODEL_ORDER = {"name": ("m.name", "text"), "last_updated_timestamp": ("m.updated_at",
                                                                        "text::timestamptz"),
                "timestamp": ("m.updated_at", "text::timestamptz"),
                "creation_timestamp": ("m.created_at", "text::timestamptz")}
_VERSION_ORDER = {"name": ("m.name", "text"), "version_number": ("v.version", "int"),
                  "creation_timestamp": ("v.created_at", "text::timestamptz"),
                  "last_updated_timestamp": ("v.updated_at", "text::timestamptz"),
                  "timestamp": ("v.updated_at", "text::timestamptz")}
# version_number is compared as the expression model_versions_number (migration 0019) indexes.
_VERSION_FIELDS = {"name": "m.name", "run_id": "v.run_id", "source_path": "v.source",
                   "version_number": "v.version::bigint"}


@dataclass(frozen=True, slots=True)
class Search:
    """One search request: the workspace schema (`catalog.schema`), and MLflow's parameters."""

    workspace: str
    filter: str | None
    order_by: list[str]
    page_token: str | None
    limit: int


async def models(db: queries.Db, q: Search) -> tuple[list[Model], str | None]:
    clauses = s.parse_filter(q.filter, frozenset({"name"}))
    p = s.Params()
    where = [_in_workspace(p, q.workspace)]
    where += [s.compare("m.name", c, p) for c in clauses if c.kind == "attribute"]
    hashed = frozenset([c for c in clauses if c.kind == "tag" and c.op == "="
                        and await queries.hash_tag(db, c.key, str(c.value))])
    where += s.tag_filters(clauses, "model_tags", "t.model_id = m.id", p, "m.id", hashed)
    rows, token = await _keyset_page(db, q, p, where, _MODEL_ORDER, [], [("name", False)],
                                     queries.MODEL_COLUMNS, "registered_models m", bool(clauses),
                                     ids_first="m.id")
    return await queries.in_slices(rows, queries.model_from_row), token


async def versions(db: queries.Db, q: Search
                   ) -> tuple[list[tuple[str, ModelVersion]], str | None]:
    clauses = s.parse_filter(q.filter, frozenset(_VERSION_FIELDS))
    p = s.Params()
    where = [_in_workspace(p, q.workspace)]
    where += [s.compare(_VERSION_FIELDS[c.key], c, p,
                        "::int" if c.key == "version_number" else "")
              for c in clauses if c.kind == "attribute"]
    where += s.tag_filters(clauses, "version_tags",
                           "t.model_id = v.model_id AND t.version = v.version", p)
    rows, token = await _keyset_page(
        db, q, p, where, _VERSION_ORDER,
        ["last_updated_timestamp DESC", "name ASC", "version_number DESC"],
        [("name", False), ("version_number", True)],
        f"{queries.VERSION_COLUMNS}, m.full_name",
        "model_versions v JOIN registered_models m ON m.id = v.model_id", bool(clauses))
    return await queries.in_slices(
        rows, lambda r: (r["full_name"], queries.version_from_row(r))), token


def _in_workspace(p: s.Params, workspace: str) -> str:
    catalog, _, schema = workspace.partition(".")
    return f"m.catalog_name = {p(catalog)} AND m.schema_name = {p(schema)}"


def _token(row: asyncpg.Record, n: int) -> list[Any]:
    return [v.isoformat() if isinstance(v, datetime) else v for v in list(row)[-n:]]


async def _keyset_page(
    db: queries.Db, q: Search, p: s.Params, where: list[str],
    order_columns: dict[str, tuple[str, str]], default_order: list[str],
    natural: list[tuple[str, bool]], columns: str, tables: str, filtered: bool,
    ids_first: str | None = None,
) -> tuple[list[asyncpg.Record], str | None]:
    """One page of a search, ordered by `order_by` (or `default_order`) then by the `natural`
    fields it does not name, after the row the page token names; with the next page's token.

    With `ids_first` (the table's key), the page's keys are found first and its rows read after:
    the search itself then needs only what the schema's name index holds (the id is in it), an
    index-only scan, however many rows it passes to fill the page."""
    fields = s.parse_order_by(q.order_by, order_columns, default_order)
    named = [order_columns[f][0] for f, _ in fields]
    if len(set(named)) != len(named):
        raise InvalidArgument(f"`order_by` contains duplicate fields: {q.order_by}",
                              field="order_by")
    fields += [(f, desc) for f, desc in natural if order_columns[f][0] not in named]
    keys = [s.OrderKey(order_columns[f][0], desc, f"::{order_columns[f][1]}")
            for f, desc in fields]
    if q.page_token:
        where.append(s.keyset_after(keys, queries.decode_token(q.page_token, list), p))
    select_keys = ", ".join(f"{k.expr} AS k{i}" for i, k in enumerate(keys))
    order = ", ".join(f"{k.expr} {'DESC' if k.descending else 'ASC'}" for k in keys)
    conditions = " AND ".join(where)
    if ids_first is not None:
        conditions = (f"{ids_first} IN (SELECT {ids_first} FROM {tables} WHERE {conditions} "
                      f"ORDER BY {order} LIMIT {q.limit + 1})")
    sql = (f"SELECT {columns}, {select_keys} FROM {tables} WHERE {conditions} "
           f"ORDER BY {order} LIMIT {q.limit + 1}")
    try:
        # A filter's values decide its plan (a pattern's, a tag's, a run's selectivity): planned
        # for them each time, never a cached statement's generic guess.
        rows = await (queries.fetch_planned(db, sql, *p.values) if filtered
                      else db.fetch(sql, *p.values))
    except asyncpg.DataError as exc:  # a value the filter or page token compares cannot be cast
        raise InvalidArgument(f"invalid filter or page_token: {exc}", field="filter") from None
    token = None
    if len(rows) > q.limit:
        token = queries.encode_token(_token(rows[q.limit - 1], len(keys)))
    return rows[: q.limit], token
