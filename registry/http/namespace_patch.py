"""A PATCH of a catalog or a schema, on either surface: a rename and the other changes it sends,
as up to two commands. Both are built (so validated) before either runs, and the rename, which can
be refused (its new name taken, the workspace's own), runs first: a refused PATCH appends nothing."""

from typing import Any

from aiohttp import web

from registry.domain import commands as c
from registry.http.dispatch import execute


async def patch_catalog(request: web.Request, name: str, sent: dict[str, Any]) -> str:
    """Carry out the fields a catalog PATCH sent; the catalog's name after it."""
    new = sent.pop("new_name", None)
    rename = None if new is None else c.RenameCatalog(name=name, new_name=new)
    update = c.UpdateCatalog(name=new or name, **sent) if sent else None
    await _in_order(request, rename, update)
    return new or name


async def patch_schema(request: web.Request, catalog: str, name: str, sent: dict[str, Any]) -> str:
    """Carry out the fields a schema PATCH sent (a rename stays within the catalog); the schema's
    name after it."""
    new = sent.pop("new_name", None)
    rename = None if new is None else c.RenameSchema(catalog_name=catalog, name=name, new_name=new)
    update = c.UpdateSchema(catalog_name=catalog, name=new or name, **sent) if sent else None
    await _in_order(request, rename, update)
    return new or name


async def _in_order(request: web.Request, *commands: c.Command | None) -> None:
    for cmd in commands:
        if cmd is not None:
            await execute(request, cmd)
