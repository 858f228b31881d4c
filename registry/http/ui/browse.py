"""Browsing: catalogs, a catalog's schemas, and models (a schema's, or found by name and tag).

Every list is one query per page, keyset-paged on the name, read through the same Reader as the
APIs (registry/reads/reader.py): it shows only what the caller may read, and says how many rows of
the page it left out.
"""

from aiohttp import web
from pydantic import Field

from registry.http import authorize
from registry.http.ui.render import FormQuery, html_errors, page
from registry.http.validation import parse_query
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


@html_errors
async def catalogs(request: web.Request) -> web.Response:
    q = parse_query(request, ListQuery)
    found = await authorize.reader(request).catalogs(after=q.after, limit=PAGE)
    return page(request, "catalogs.html", title="Catalogs", listing=found, hidden=found.hidden)


@html_errors
async def schemas(request: web.Request) -> web.Response:
    q = parse_query(request, ListQuery)
    name = request.match_info["catalog"]
    reader = authorize.reader(request)
    catalog = await reader.catalog(name)
    found = await reader.schemas(name, after=q.after, limit=PAGE)
    return page(request, "schemas.html", title=f"Catalog {name}", catalog=catalog,
                listing=found, hidden=found.hidden)


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
    where = ".".join(x for x in (s.catalog, s.schema_) if x)
    return page(request, "models.html", title=f"Models in {where}" if where else "Models",
                search=s, listing=found, hidden=found.hidden)
