"""Browsing: catalogs, a catalog's schemas, and models (a schema's, or found by name and tag).

Every list is one query per page, keyset-paged on the name, and shows only what the caller may
read (the APIs' `authorize.readable`, applied after paging as they do); a catalog's page needs
what reading the catalog needs (`authorize.require_read`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import Field

from registry.domain.errors import NotFound
from registry.domain.privileges import SecurableType
from registry.http import authorize
from registry.http.keys import POOL
from registry.http.ui.render import FormQuery, html_errors, page
from registry.http.validation import parse_query
from registry.reads import queries
from registry.reads.search import ModelFilter

PAGE = 50


class ListQuery(FormQuery):
    after: str | None = None


class ModelSearch(FormQuery):
    catalog: str | None = None
    schema_: str | None = Field(None, alias="schema")
    q: str | None = None  # a name, or a pattern with * and ?
    tag: str | None = None  # key, or key=value
    after: str | None = None


@dataclass(frozen=True)
class Listing:
    items: list[Any]
    next_after: str | None


def _listing(found: list[Any], key: str) -> Listing:
    more = len(found) > PAGE
    return Listing(found[:PAGE], getattr(found[PAGE - 1], key) if more else None)


def _readable(listing: Listing, keep: Callable[[Any], bool]) -> tuple[Listing, int]:
    """The page without what the caller may not read, and how many rows that left out."""
    shown = [x for x in listing.items if keep(x)]
    return Listing(shown, listing.next_after), len(listing.items) - len(shown)


@html_errors
async def catalogs(request: web.Request) -> web.Response:
    q = parse_query(request, ListQuery)
    found = await queries.list_catalogs(request.config_dict[POOL], q.after, PAGE + 1)
    readable = authorize.access(request).readable(SecurableType.CATALOG)
    listing, hidden = _readable(_listing(found, "name"), lambda c: readable(c.name))
    return page(request, "catalogs.html", title="Catalogs", listing=listing, hidden=hidden)


@html_errors
async def schemas(request: web.Request) -> web.Response:
    q = parse_query(request, ListQuery)
    name = request.match_info["catalog"]
    authorize.access(request).require(name, SecurableType.CATALOG)
    pool = request.config_dict[POOL]
    catalog = await queries.get_catalog(pool, name)
    if catalog is None:
        raise NotFound(f"catalog {name!r} does not exist", catalog=name)
    found = await queries.list_schemas(pool, name, q.after, PAGE + 1)
    readable = authorize.access(request).readable(SecurableType.SCHEMA)
    listing, hidden = _readable(_listing(found, "name"),
                                lambda s: readable(f"{s.catalog_name}.{s.name}"))
    return page(request, "schemas.html", title=f"Catalog {name}", catalog=catalog,
                listing=listing, hidden=hidden)


def name_pattern(text: str | None) -> str | None:
    """What a person types in the search box: a part of the name, or a `*`/`?` pattern."""
    text = (text or "").strip()
    if not text:
        return None
    return text if "*" in text or "?" in text else f"*{text}*"


def tag_filter(text: str | None) -> tuple[str | None, str | None]:
    """`key` (any value) or `key=value`."""
    text = (text or "").strip()
    if not text:
        return None, None
    key, eq, value = text.partition("=")
    return key.strip(), (value.strip() if eq else None)


@html_errors
async def models(request: web.Request) -> web.Response:
    s = parse_query(request, ModelSearch)
    key, value = tag_filter(s.tag)
    found = await authorize.reader(request).models(
        ModelFilter(catalog=s.catalog, schema=s.schema_, name_pattern=name_pattern(s.q),
                    ignore_case=True, tag_key=key, tag_value=value), after=s.after, limit=PAGE)
    listing, hidden = Listing(found.items, found.next_after), found.hidden
    where = ".".join(x for x in (s.catalog, s.schema_) if x)
    return page(request, "models.html", title=f"Models in {where}" if where else "Models",
                search=s, listing=listing, hidden=hidden)
