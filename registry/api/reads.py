"""The hot reads, through the process's read cache (registry/read_cache.py)."""

from aiohttp import web

from .. import queries
from ..domain.models import Model, ModelVersion
from .keys import POOL, READ_CACHE


async def model(request: web.Request, full_name: str) -> Model | None:
    return await request.app[READ_CACHE].get(
        ("model", full_name), lambda: queries.get_model(request.app[POOL], full_name))


async def version_by_alias(request: web.Request, full_name: str, alias: str
                           ) -> tuple[ModelVersion, list[str]] | None:
    return await request.app[READ_CACHE].get(
        ("alias", full_name, alias),
        lambda: queries.version_by_alias(request.app[POOL], full_name, alias))
