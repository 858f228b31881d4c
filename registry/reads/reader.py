"""The one way any surface reads the registry: a `Reader` for one principal.

Each read takes an optional point of the log (`at`, a position): None is now, from the read models
through the process's read cache; a position is the registry as it was, folded from the one model's
stream up to there. Both are one method with a parameter, and both check read access first, so a
view cannot forget it. Answers are domain values; each surface shapes them for its own wire.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from uuid import UUID

import asyncpg

from registry.domain.errors import NotFound
from registry.domain.models import Model, ModelVersion
from registry.eventstore import head_position, read_stream
from registry.reads import as_of, mlflow_pages, queries, search, timeline
from registry.reads.access import ReadAccess
from registry.reads.cache import ReadCache
from registry.reads.search import ModelFilter
from registry.timeline.periods import Period, fold

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Found(Generic[T]):
    """One page of a list, without what the principal may not read. Paging goes on past hidden
    rows: `next_after` is the last row fetched, shown or not."""

    items: list[T]
    hidden: int  # rows of this page left out
    next_after: str | None  # where the next page starts (None: this was the last)


def found(rows: list[T], limit: int, key: Callable[[T], str], keep: Callable[[T], bool]
          ) -> Found[T]:
    """A page from `limit + 1` fetched rows: the extra one only says there is a next page."""
    page = rows[:limit]
    shown = [x for x in page if keep(x)]
    return Found(shown, len(page) - len(shown), key(page[-1]) if len(rows) > limit else None)


@dataclass(frozen=True, slots=True)
class Reader:
    pool: asyncpg.Pool
    cache: ReadCache
    access: ReadAccess

    async def point(self, when: str) -> int:
        """A log position or an ISO-8601 instant, as the position it names (at most the head)."""
        return await as_of.resolve(self.pool, when)

    async def model(self, full_name: str, at: int | None = None, *,
                    missing: NotFound | None = None) -> Model:
        """The model named `full_name` now (checked by that name), or the one that bore it at `at`
        (checked by its identity: the name may have passed to another model since). `missing`:
        the surface's own 404."""
        if at is None:
            self.access.require(full_name)
            model = await self.cache.get(("model", full_name),
                                         lambda: queries.get_model(self.pool, full_name))
        else:
            model = await as_of.model_at(self.pool, full_name, at)
            if model is not None:
                self.access.require_past(model.id, full_name)
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
        self.access.require_past(found, full_name)
        return found

    async def models(self, f: ModelFilter, at: int | None = None, *, after: str | None = None,
                     limit: int = 100) -> Found[Model]:
        """The models `f` selects, now or as they were at `at`, that the principal may read."""
        if at is None:
            rows = await search.models(self.pool, f, after, limit + 1)
            named = self.access.readable()
            return found(rows, limit, _full_name, lambda m: named(m.full_name))
        rows = await search.models_at(self.pool, at, f, after, limit + 1)
        return found(rows, limit, _full_name, self.access.readable_past())

    async def mlflow_models(self, default_schema: str, filter_: str | None, order_by: list[str],
                            page_token: str | None, limit: int) -> tuple[list[Model], str | None]:
        """MLflow's search_registered_models: a page, and the next page's token if any."""
        return await mlflow_pages.models(
            self.pool, mlflow_pages.Search(default_schema, filter_, order_by, page_token, limit),
            self.access.readable())

    async def mlflow_versions(self, default_schema: str, filter_: str | None, order_by: list[str],
                              page_token: str | None, limit: int
                              ) -> tuple[list[mlflow_pages.VersionHit], str | None]:
        """MLflow's search_model_versions: a page, and the next page's token if any."""
        return await mlflow_pages.versions(
            self.pool, mlflow_pages.Search(default_schema, filter_, order_by, page_token, limit),
            self.access.readable())

    async def version(self, model: Model, number: int, past: bool = False, *,
                      missing: NotFound | None = None) -> ModelVersion:
        """Version `number` of a model that `model` returned (so checked already): of the model
        itself when that is a past one, else from the read model."""
        mv = model.versions.get(number) if past else \
            await queries.get_version(self.pool, model.id, number)
        if mv is None:
            raise missing or NotFound(f"model version {model.full_name} {number} does not exist",
                                      model=model.full_name, version=number)
        return mv

    async def version_by_alias(self, full_name: str, alias: str
                               ) -> tuple[ModelVersion, list[str]] | None:
        """The version `alias` points at now, with all its aliases (None: no such model or
        alias)."""
        self.access.require(full_name)
        return await self.cache.get(
            ("alias", full_name, alias),
            lambda: queries.version_by_alias(self.pool, full_name, alias))

    async def periods(self, model_id: UUID, *, kind: str | None = None, lane: str | None = None,
                      after: int = 0, limit: int = 1000) -> list[Period]:
        """Which version each alias and stage of a model (`model_id`, found through `model_id`)
        pointed at, and when: from the `alias_history` projection, or, while it lags behind the
        head, the model's stream folded, so the answer is exact either way."""
        if await timeline.caught_up_to(self.pool) >= await head_position(self.pool):
            return await timeline.lanes(self.pool, model_id, kind=kind, lane=lane, after=after,
                                        limit=limit)
        events = await read_stream(self.pool, f"model:{model_id}")
        found = [p for p in fold(events) if (kind is None or p.kind == kind)
                 and (lane is None or p.lane == lane) and p.valid_from_position > after]
        return found[:limit]

    async def alias_at(self, full_name: str, alias: str, at: int) -> Period | None:
        """The period of `alias` that covers position `at` (checked as `model_id`)."""
        await self.model_id(full_name, at)
        return await timeline.alias_at(self.pool, full_name, alias, at)


def _full_name(m: Model) -> str:
    return m.full_name
