"""An in-process cache of hot reads, exact for this process and near-exact across processes.

A commit drops only the entries that depend on what it changed. Each entry names what it depends
on (its tags): the stream of the model it found, or, when it found no model by a name, that name
and `UNBOUND` (whatever may give a model that name: a creation, a rename). This process's writer
hands over each batch's events before answering its callers (so a client reads its own writes):
the model streams among them are dropped, and the names a creation or rename claims. Every process
also hears of other processes' commits through PostgreSQL's 'modelog_appended_streams'
notification, which names the streams an append statement appended to
(registry/eventstore/log_head.py): their model streams are dropped, and every UNBOUND entry, as a
stream id does not say which names it claimed.

Anything else that may move models or change what they hold (catalogs and schemas: renames move
every model under them, deletes cascade; privileges on a metastore; streams of unknown kinds; a
notification without streams, a rebuild, a gap) clears everything. Principals, tokens and webhooks
change nothing here. Cached values do not depend on who reads: every read checks its access first,
against the write model, so a revoke never waits for this cache.

A read that raced an invalidation of any of its tags does not store its (possibly older) answer:
each invalidation counts a tick, each tag keeps the tick it was last dropped at, and a load
started at an earlier tick keeps its answer to itself. Positions are commit-ordered and
notifications arrive in that order, so a clear-all made once position P was committed covers every
commit up to P: notifications at or below it are skipped; so are those of this process's own
commits, dropped already. While the notifications' connection is down the cache is bypassed, and
cleared once it is back.
"""

from collections import Counter, deque
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar
from uuid import UUID

import structlog

from registry.domain import events as ev
from registry.domain import models, streams
from registry.domain.events import parse_event
from registry.eventstore import RecordedEvent
from registry.eventstore.log_head import LogHead, appended
from registry.memory import estimate

log = structlog.get_logger(__name__)
T = TypeVar("T")
UNBOUND = ("unbound",)  # the tag of every entry that found no model by its name
_INERT = frozenset({"principal", "token", "webhook"})  # streams no cached read depends on
_TOUCHED_LIMIT = 10_000  # tags' last-dropped ticks kept before the useless ones are pruned
_OWN_COMMITS = 1024  # this process's recent commits, whose notifications are skipped
_MISSING = object()
_ENTRY_BYTES = 400  # an entry's own tuple and dictionary slots, and its tags' index


def model_tags(model_id: UUID | None, full_name: str) -> tuple[Hashable, ...]:
    """What a read of the model named `full_name` depends on: the stream of the model found, or,
    if none was, the name."""
    if model_id is not None:
        return (models.stream_id(model_id),)
    return (("name", full_name), UNBOUND)


def changed(events: Sequence[RecordedEvent]) -> set[Hashable] | None:
    """The tags this process's own events drop (None: everything)."""
    tags: set[Hashable] = set()
    for r in events:
        kind = streams.parse(r.stream_id).kind
        if kind in _INERT:
            continue
        if kind != streams.MODEL:
            return None
        tags.add(r.stream_id)
        if r.type in ("ModelCreated", "ModelRenamed"):  # claims a name
            e = r.event or parse_event(r.type, r.schema_version, r.data)
            assert isinstance(e, ev.ModelCreated | ev.ModelRenamed)
            tags.add(("name", f"{e.catalog_name}.{e.schema_name}.{e.name}"))
    return tags


def notified(stream_ids: Iterable[str]) -> set[Hashable] | None:
    """The tags another process's append to `stream_ids` drops (None: everything)."""
    tags: set[Hashable] = set()
    for stream_id in stream_ids:
        kind = streams.parse(stream_id).kind
        if kind in _INERT:
            continue
        if kind != streams.MODEL:
            return None
        tags.update((stream_id, UNBOUND))
    return tags


class ReadCache:
    def __init__(self, budget: int = 256 << 20) -> None:
        self.budget = budget  # bytes the entries may hold (estimated); past it they are forgotten
        self.held = 0
        self._entries: dict[Hashable, tuple[Any, tuple[Hashable, ...], int]] = {}
        self._keys: dict[Hashable, set[Hashable]] = {}  # tag -> the keys of entries it tags
        self._tick = 0  # counts invalidations
        self._cleared_at = 0  # the tick of the last clear-all
        self._touched: dict[Hashable, int] = {}  # tag -> the tick it was last dropped at
        self._loading: Counter[int] = Counter()  # the start ticks of loads in flight
        self._cleared_for = 0  # the highest position a clear-all has covered
        self._own: deque[int] = deque()
        self._own_set: set[int] = set()
        self._listening = False
        self.hits = self.misses = 0

    def clear(self) -> None:
        self._tick += 1
        self._cleared_at = self._tick
        self._touched.clear()  # every load started before now is refused by _cleared_at
        self._entries.clear()
        self._keys.clear()
        self.held = 0

    def invalidate(self, tags: Iterable[Hashable]) -> None:
        self._tick += 1
        for tag in tags:
            self._touched[tag] = self._tick
            for key in self._keys.pop(tag, ()):
                self._drop(key)
        if len(self._touched) > _TOUCHED_LIMIT:
            # A tag dropped at or before the oldest load in flight refuses no load any more.
            oldest = min(self._loading, default=self._tick)
            self._touched = {t: at for t, at in self._touched.items() if at > oldest}

    def committed(self, position: int, events: Sequence[RecordedEvent]) -> None:
        """This process's writer committed `events`, up to `position`."""
        self._own.append(position)
        self._own_set.add(position)
        if len(self._own) > _OWN_COMMITS:
            self._own_set.discard(self._own.popleft())
        self._apply(position, changed(events))

    def _notified(self, payload: str) -> None:
        # Only ever heard while listening: after a gap, this is how the cache learns it is back.
        self._listening = True
        found = appended(payload)
        if found is None:  # a rebuild, a gap: anything may have changed
            self.clear()
            return
        position, stream_ids = found
        if position in self._own_set:
            self._own_set.discard(position)  # dropped already, at commit
            return
        self._apply(position, None if stream_ids is None else notified(stream_ids))

    def _apply(self, position: int, tags: set[Hashable] | None) -> None:
        if position <= self._cleared_for:
            return
        if tags is None:
            self._cleared_for = position
            self.clear()
        elif tags:
            self.invalidate(tags)

    async def get(self, key: Hashable, load: Callable[[], Awaitable[T]],
                  tags: Callable[[T], Iterable[Hashable]]) -> T:
        """The entry under `key`, else `load()`'s answer, kept under the tags `tags` gives it."""
        if not self._listening:
            return await load()
        found = self._entries.get(key, _MISSING)
        if found is not _MISSING:
            self.hits += 1
            return found[0]  # type: ignore[index]
        self.misses += 1
        start = self._tick
        self._loading[start] += 1
        try:
            value = await load()
        finally:
            self._loading[start] -= 1
            if not self._loading[start]:
                del self._loading[start]
        deps = tuple(tags(value))
        if self._listening and self._cleared_at <= start and all(
                self._touched.get(t, 0) <= start for t in deps):
            self._store(key, value, deps)
        return value

    def _store(self, key: Hashable, value: Any, deps: tuple[Hashable, ...]) -> None:
        size = estimate(key) + estimate(value) + _ENTRY_BYTES
        if key in self._entries:
            self._drop(key)
        if self.held + size > self.budget:
            self._entries.clear()  # forgetting is always safe
            self._keys.clear()
            self.held = 0
        self._entries[key] = (value, deps, size)
        self.held += size
        for tag in deps:
            self._keys.setdefault(tag, set()).add(key)

    def _drop(self, key: Hashable) -> None:
        found = self._entries.pop(key, None)
        if found is None:
            return
        self.held -= found[2]
        for tag in found[1]:
            keys = self._keys.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._keys[tag]

    def __len__(self) -> int:
        return len(self._entries)

    def follow(self, head: LogHead) -> None:
        """Hear of other processes' commits through the log head's connection."""
        head.on_notified.append(self._notified)
        head.on_lost.append(self._lost)
        self.clear()
        self._listening = head.listening

    def _lost(self) -> None:
        log.warning("read cache is bypassed until commits can be heard of again")
        self._listening = False
        self.clear()
