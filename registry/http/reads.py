"""The hot reads, through the process's read cache (registry/reads/cache.py)."""

from aiohttp import web

from registry.domain.models import Model, ModelVersion
from registry.http.keys import POOL, READ_CACHE
from registry.reads import queries


async def model(request: web.Request, full_name: str) -> Model | None:
    return await request.app[READ_CACHE].get(
        ("model", full_name), lambda: queries.get_model(request.app[POOL], full_name))


async def version_by_alias(request: web.Request, full_name: str, alias: str
                           ) -> tuple[ModelVersion, list[str]] | None:
    return await request.app[READ_CACHE].get(
        ("alias", full_name, alias),
        lambda: queries.version_by_alias(request.app[POOL], full_name, alias))
