"""The one way any surface reads the registry: a `Reader` for one principal.

Each read takes an optional point of the log (`at`, a position): None is now, from the read models
through the process's read cache; a position is the registry as it was, folded from the one model's
stream up to there. Both are one method with a parameter, and both check read access first, so a
view cannot forget it. Answers are domain values; each surface shapes them for its own wire.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import asyncpg

from registry.domain.catalogs import Catalog
from registry.domain.errors import NotFound
from registry.domain.models import Model, ModelVersion, stream_id
from registry.domain.privileges import Action, Chain, Securable, SecurableType, allowed
from registry.domain.schemas import Schema
from registry.eventstore import RecordedEvent, head_position, read_stream
from registry.reads import as_of, mlflow_pages, queries, search, timeline
from registry.reads.access import ReadAccess
from registry.reads.cache import ReadCache, model_tags
from registry.reads.search import ModelFilter
from registry.timeline.periods import Period

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Found(Generic[T]):
    """One page of a list, without what the principal may not read. Paging goes on past hidden
    rows: `next_after` is the last row fetched, shown or not."""

    items: list[T]
    hidden: int  # rows of this page left out
    next_after: Any  # the key the next page starts after (None: this was the last page)


@dataclass(frozen=True, slots=True)
class EventPoint:
    """An event of a model's stream without its payload (e.g. a stop of the UI's as-of slider)."""

    position: int
    at: datetime
    type: str
    version: int | None
    actor: str | None


def found(rows: list[T], limit: int, key: Callable[[T], Any],
          keep: Callable[[T], bool] = lambda _: True) -> Found[T]:
    """A page from `limit + 1` fetched rows: the extra one only says there is a next page."""
    page = rows[:limit]
    shown = [x for x in page if keep(x)]
    return Found(shown, len(page) - len(shown), key(page[-1]) if len(rows) > limit else None)


@dataclass(frozen=True, slots=True)
class Reader:
    pool: asyncpg.Pool
    cache: ReadCache
    access: ReadAccess

    # --- catalogs and schemas: by their current name (now) or the name they bore then (at) -----

    async def catalog(self, name: str, at: int | None = None, *,
                      missing: NotFound | None = None) -> Catalog:
        await self.access.require(name, SecurableType.CATALOG, past=at is not None)
        cat = await queries.get_catalog(self.pool, name) if at is None else \
            (await as_of.namespaces_at(self.pool, at)).catalogs.get(name)
        if cat is None:
            raise missing or NotFound(f"catalog {name!r} does not exist", catalog=name)
        return cat

    async def catalogs(self, at: int | None = None, *, after: str | None = None,
                       limit: int = 100) -> Found[Catalog]:
        if at is None:
            rows = await queries.list_catalogs(self.pool, after, limit + 1)
        else:
            past = (await as_of.namespaces_at(self.pool, at)).catalogs
            rows = [past[n] for n in sorted(past) if after is None or n > after][: limit + 1]
        readable = await self.access.readable([c.name for c in rows], SecurableType.CATALOG)
        return found(rows, limit, lambda c: c.name, lambda c: readable(c.name))

    async def schema(self, catalog: str, name: str, at: int | None = None, *,
                     missing: NotFound | None = None) -> Schema:
        full = f"{catalog}.{name}"
        await self.access.require(full, SecurableType.SCHEMA, past=at is not None)
        s = await queries.get_schema(self.pool, catalog, name) if at is None else \
            (await as_of.namespaces_at(self.pool, at)).schemas.get((catalog, name))
        if s is None:
            raise missing or NotFound(f"schema {full!r} does not exist", schema=full)
        return s

    async def schemas(self, catalog: str, at: int | None = None, *, after: str | None = None,
                      limit: int = 100, missing: NotFound | None = None) -> Found[Schema]:
        """A catalog's schemas (the catalog read as `catalog` reads it)."""
        await self.access.require(catalog, SecurableType.CATALOG, past=at is not None)
        if at is None:
            if await queries.get_catalog(self.pool, catalog) is None:
                raise missing or NotFound(f"catalog {catalog!r} does not exist", catalog=catalog)
            rows = await queries.list_schemas(self.pool, catalog, after, limit + 1)
        else:
            state = await as_of.namespaces_at(self.pool, at)
            if catalog not in state.catalogs:
                raise missing or NotFound(f"catalog {catalog!r} did not exist then",
                                          catalog=catalog)
            rows = [s for (c, n), s in sorted(state.schemas.items())
                    if c == catalog and (after is None or n > after)][: limit + 1]
        readable = await self.access.readable([f"{s.catalog_name}.{s.name}" for s in rows],
                                               SecurableType.SCHEMA)
        return found(rows, limit, lambda s: s.name,
                     lambda s: readable(f"{s.catalog_name}.{s.name}"))

    async def require_schema(self, catalog: str, name: str, *, missing_catalog: NotFound,
                             missing_schema: NotFound) -> None:
        """That a schema exists now, whoever asks: a listing of its models then shows what the
        principal may read of them (Unity Catalog's order: a missing parent is a 404 first)."""
        if await queries.get_catalog(self.pool, catalog) is None:
            raise missing_catalog
        if await queries.get_schema(self.pool, catalog, name) is None:
            raise missing_schema

    async def acls(self, securable: Securable, at: int | None = None) -> Chain:
        """The ACL chain of `securable` (its own and its parents'), now or at `at`, if the
        principal may read its grants: READ or MANAGE on it now (for a past model, on the model
        that bore the name then, wherever it is now)."""
        if at is None and securable.type is SecurableType.METASTORE:
            await self.access.require(securable.full_name, securable.type)
            return await self.access.chain(securable)
        if at is None:
            acls = await self.access.chain(securable)
            if not any(allowed(self.access.principal, a, acls)
                       for a in (Action.READ, Action.MANAGE)):
                raise self.access.denial(Action.READ, securable)
            return acls
        found, model_id = await as_of.chain_at(self.pool, securable, at)
        if found is None:
            raise securable.missing("did not exist then")
        if model_id is not None:
            await self.access.require_past(model_id, securable.full_name)
        else:
            await self.access.require(securable.full_name, securable.type, past=True)
        return found

    # --- models, versions, aliases ------------------------------------------------------------

    async def point(self, when: str) -> int:
        """A log position or an ISO-8601 instant, as the position it names (at most the head)."""
        return await as_of.resolve(self.pool, when)

    async def model(self, full_name: str, at: int | None = None, *,
                    missing: NotFound | None = None) -> Model:
        """The model named `full_name` now (checked by that name), or the one that bore it at `at`
        (checked by its identity: the name may have passed to another model since). `missing`:
        the surface's own 404."""
        if at is None:
            await self.access.require(full_name)
            model = await self.cache.get(
                ("model", full_name), lambda: queries.get_model(self.pool, full_name),
                lambda m: model_tags(None if m is None else m.id, full_name))
        else:
            model = await as_of.model_at(self.pool, full_name, at)
            if model is not None:
                await self.access.require_past(model.id, full_name)
        if model is None:
            raise missing or NotFound(f"registered model {full_name!r} does not exist",
                                      model=full_name)
        return model

    async def model_id(self, full_name: str, at: int | None = None) -> UUID:
        """The identity of the model named `full_name` now or at `at`, checked as `model`."""
        if at is None:
            return (await self.model(full_name)).id
        found = await as_of.model_id_at(self.pool, full_name, at)
        if found is None:
            raise NotFound(f"registered model {full_name!r} does not exist", model=full_name)
        await self.access.require_past(found, full_name)
        return found

    async def models(self, f: ModelFilter, at: int | None = None, *, after: str | None = None,
                     limit: int = 100) -> Found[Model]:
        """The models `f` selects, now or as they were at `at`, that the principal may read."""
        if at is None:
            rows = await search.models(self.pool, f, after, limit + 1)
            named = await self.access.readable([m.full_name for m in rows[:limit]])
            return found(rows, limit, _full_name, lambda m: named(m.full_name))
        rows = await search.models_at(self.pool, at, f, after, limit + 1)
        return found(rows, limit, _full_name, await self.access.readable_past(rows[:limit]))

    async def mlflow_models(self, workspace: str, filter_: str | None, order_by: list[str],
                            page_token: str | None, limit: int) -> tuple[list[Model], str | None]:
        """MLflow's search_registered_models: a page, and the next page's token if any."""
        models, token = await mlflow_pages.models(
            self.pool, mlflow_pages.Search(workspace, filter_, order_by, page_token, limit))
        readable = await self.access.readable([m.full_name for m in models])
        return [m for m in models if readable(m.full_name)], token

    async def mlflow_versions(self, workspace: str, filter_: str | None, order_by: list[str],
                              page_token: str | None, limit: int
                              ) -> tuple[list[tuple[str, ModelVersion]], str | None]:
        """MLflow's search_model_versions: a page, and the next page's token if any."""
        versions, token = await mlflow_pages.versions(
            self.pool, mlflow_pages.Search(workspace, filter_, order_by, page_token, limit))
        readable = await self.access.readable({name for name, _ in versions})
        return [(name, mv) for name, mv in versions if readable(name)], token

    async def version(self, model: Model, number: int, at: int | None = None, *,
                      missing: NotFound | None = None) -> ModelVersion:
        """Version `number` of a model that `model` returned (so checked already), now or, for a
        model `model` returned at `at`, as it was then."""
        # A number beyond the read model's integers (an API takes any int64) names no version.
        mv = None if not 1 <= number <= queries.MAX_INT else \
            await queries.get_version(self.pool, model.id, number) if at is None else \
            await as_of.version_at(self.pool, model, number, at)
        if mv is None:
            raise missing or NotFound(f"model version {model.full_name} {number} does not exist",
                                      model=model.full_name, version=number)
        return mv

    async def versions(self, model: Model, at: int | None = None, *, after: int | None = None,
                       limit: int = 100) -> Found[ModelVersion]:
        """Versions of a model that `model` returned (at `at`), by number after `after`."""
        if at is None:
            rows = await queries.list_versions(self.pool, model.id, after, limit + 1)
        else:
            rows = await as_of.versions_at(self.pool, model, at, after, limit + 1)
        return found(rows, limit, lambda mv: mv.version)

    async def events(self, model: Model, at: int | None = None, *, after: int = 0,
                     limit: int = 100) -> Found[RecordedEvent]:
        """A model's own events (`model` returned it, so checked already), up to `at`."""
        rows = await read_stream(self.pool, stream_id(model.id), after_version=after,
                                 until_position=at, limit=limit + 1)
        return found(rows, limit, lambda e: e.stream_version)

    async def latest_versions(self, models: list[Model]) -> dict[UUID, list[ModelVersion]]:
        """Per model (each returned by this reader, so checked already), the newest live version
        in each stage: MLflow's `latest_versions`."""
        return await queries.latest_versions(self.pool, [m.id for m in models])

    async def event_points(self, model: Model, until: int | None = None, *, limit: int = 1000
                           ) -> list[EventPoint]:
        """The latest `limit` events of a model (`model` returned it, so checked already) up to
        `until`, without their payloads: one index scan."""
        rows = await self.pool.fetch(
            "SELECT * FROM (SELECT position, recorded_at, type, (data->>'version')::int AS version, "
            "metadata->>'actor' AS actor FROM events WHERE stream_id = $1 "
            "AND ($2::bigint IS NULL OR position <= $2) ORDER BY stream_version DESC LIMIT $3) x "
            "ORDER BY position", stream_id(model.id), until, limit)
        return [EventPoint(*r.values()) for r in rows]

    async def version_by_alias(self, full_name: str, alias: str
                               ) -> tuple[ModelVersion, list[str]] | None:
        """The version `alias` points at now, with all its aliases (None: no such model or
        alias)."""
        await self.access.require(full_name)
        _, found = await self.cache.get(
            ("alias", full_name, alias), lambda: queries.alias_of(self.pool, full_name, alias),
            lambda got: model_tags(got[0], full_name))
        return found

    async def periods(self, model_id: UUID, *, kind: str | None = None, lane: str | None = None,
                      after: int = 0, limit: int = 1000) -> list[Period]:
        """Which version each alias and stage of a model (`model_id`, found through `model_id`)
        pointed at, and when: from the `alias_history` projection, or, while it lags behind the
        head, the model's stream folded, so the answer is exact either way."""
        if await timeline.caught_up_to(self.pool) >= await head_position(self.pool):
            return await timeline.lanes(self.pool, model_id, kind=kind, lane=lane, after=after,
                                        limit=limit)
        found = [p for p in await timeline.folded(self.pool, model_id)
                 if (kind is None or p.kind == kind)
                 and (lane is None or p.lane == lane) and p.valid_from_position > after]
        return found[:limit]

    async def alias_at(self, full_name: str, alias: str, at: int) -> Period | None:
        """The period of `alias` that covers position `at` (checked as `model_id`)."""
        await self.model_id(full_name, at)
        return await timeline.alias_at(self.pool, full_name, alias, at)


def _full_name(m: Model) -> str:
    return m.full_name
