"""Set-based SQL for write batches: one array per column, many rows per execution.

A `Sql` statement writes one table and reads no other, so a batch's statements on distinct
tables can run as data-modifying CTEs of a single statement: one round trip and one execution for
the events and every read model they change. Statements on the same table keep their order by
going into successive statements.
"""

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import asyncpg


@dataclass(frozen=True, slots=True)
class Sql:
    """A set-based statement on one table. Called with one row's values, it gives a Statement."""

    table: str
    text: str
    key_len: int = 0  # leading values that identify the row; 0 keeps every row
    # What the text does, for readers other than PostgreSQL (projections/memory.py).
    kind: str = "insert"  # insert (an upsert when key_len), update or delete
    columns: tuple[tuple[str, str], ...] = ()  # (name, type) of each value, in order

    def __call__(self, *values: Any) -> "Statement":
        return Statement(self, values)


class Statement(NamedTuple):  # a tuple: made once per row, it must be cheap to build
    sql: Sql
    values: tuple[Any, ...]


def _unnest(columns: dict[str, str]) -> str:
    arrays = ", ".join(f"${i}::{t}[]" for i, t in enumerate(columns.values(), start=1))
    return f"unnest({arrays}) AS u({', '.join(columns)})"


def insert(table: str, columns: dict[str, str], *, upsert_on: tuple[str, ...] = ()) -> Sql:
    """INSERT rows; with `upsert_on`, a row whose key exists replaces its other columns (and a
    batch keeps the last row per key, as ON CONFLICT cannot touch a row twice)."""
    text = f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM {_unnest(columns)}"
    if upsert_on:
        assert list(columns)[: len(upsert_on)] == list(upsert_on), "key columns come first"
        rest = [c for c in columns if c not in upsert_on]
        text += (f" ON CONFLICT ({', '.join(upsert_on)}) DO UPDATE SET "
                 + ", ".join(f"{c} = EXCLUDED.{c}" for c in rest))
    return Sql(table, text, len(upsert_on), "insert", tuple(columns.items()))


def update(table: str, key: dict[str, str], values: dict[str, str]) -> Sql:
    """UPDATE the row matching `key` (a batch keeps the last row per key: these are
    assignments, so the last wins, and UPDATE ... FROM would otherwise pick any one).

    `key` is a unique key of the table: the planner folds an update of a row inserted earlier in
    the same batch into that insert, which would be wrong if the key matched other rows too."""
    sets = ", ".join(f"{c} = u.{c}" for c in values)
    where = " AND ".join(f"t.{c} = u.{c}" for c in key)
    return Sql(table, f"UPDATE {table} t SET {sets} FROM {_unnest({**key, **values})} "
                      f"WHERE {where}", len(key), "update", tuple({**key, **values}.items()))


def delete(table: str, key: dict[str, str]) -> Sql:
    where = " AND ".join(f"t.{c} = u.{c}" for c in key)
    return Sql(table, f"DELETE FROM {table} t USING {_unnest(key)} WHERE {where}", 0, "delete",
               tuple(key.items()))


class _Fold(NamedTuple):
    """Where an update's values go in a row of an insert on the same table."""

    key: tuple[int, ...]  # the insert's columns holding the update's key
    uuids: tuple[bool, ...]  # which of those are uuids (given as UUID or as text)
    sets: tuple[tuple[int, int], ...]  # (update value index, insert column index) per assignment


_FOLDS: dict[tuple[int, int], _Fold | None] = {}


def _fold_of(insert_sql: Sql, update_sql: Sql) -> _Fold | None:
    """How `update_sql` folds into rows of `insert_sql`; None if the insert lacks a column it
    names (a column the insert leaves to its default cannot be assigned in the row)."""
    ids = (id(insert_sql), id(update_sql))  # Sql objects are module constants
    if ids not in _FOLDS:
        where = {name: i for i, (name, _) in enumerate(insert_sql.columns)}
        names = [name for name, _ in update_sql.columns]
        fold = None
        if all(name in where for name in names):
            key = names[: update_sql.key_len]
            fold = _Fold(
                tuple(where[n] for n in key),
                tuple(t == "uuid" for _, t in update_sql.columns[: update_sql.key_len]),
                tuple((i, where[n]) for i, n in enumerate(names) if i >= update_sql.key_len))
        _FOLDS[ids] = fold
    return _FOLDS[ids]


def _key(values: Sequence[Any], uuids: tuple[bool, ...]) -> tuple[Any, ...]:
    return tuple(str(v) if u and v is not None else v for v, u in zip(values, uuids, strict=True))


@dataclass
class Group:
    """Rows for one execution of one `Sql`."""

    sql: Sql
    rows: dict[Hashable, tuple[Any, ...]] = field(default_factory=dict)
    # Of an insert, per fold an update made into it: each key's row, kept up as rows are added.
    _index: dict[_Fold, dict[tuple[Any, ...], Hashable]] = field(default_factory=dict, repr=False)

    def add(self, values: tuple[Any, ...]) -> None:
        key = values[: self.sql.key_len] if self.sql.key_len else len(self.rows)
        self.rows[key] = values  # a keyed row replaces the earlier one with its key
        for fold, index in self._index.items():
            index[_key([values[i] for i in fold.key], fold.uuids)] = key

    def fold(self, st: Statement) -> bool:
        """Apply an update to the row this insert writes for its key, if it writes one: the
        row then goes in with the update's values, as if updated after the insert (the key is
        unique, so the update would have touched that row and no other). False: no such row."""
        fold = _fold_of(self.sql, st.sql)
        if fold is None:
            return False
        index = self._index.get(fold)
        if index is None:
            index = self._index[fold] = {
                _key([row[i] for i in fold.key], fold.uuids): k for k, row in self.rows.items()}
        row_key = index.get(_key(st.values[: len(fold.key)], fold.uuids))
        if row_key is None:
            return False
        before = self.rows[row_key]
        row = list(before)
        for value_at, column_at in fold.sets:
            row[column_at] = st.values[value_at]
        self.rows[row_key] = after = tuple(row)
        for other, keys in self._index.items():  # the update may set a key column (a rename)
            old = _key([before[i] for i in other.key], other.uuids)
            new = _key([after[i] for i in other.key], other.uuids)
            if old != new:
                if keys.get(old) == row_key:
                    del keys[old]
                keys[new] = row_key
        return True

    def columns(self) -> list[list[Any]]:
        return [list(c) for c in zip(*self.rows.values(), strict=True)]


class Planner:
    """Collects statements in order into groups: a statement joins the latest group on its table
    when that group runs the same SQL, so per-table order is kept."""

    def __init__(self) -> None:
        self.groups: list[Group] = []
        self._last_on_table: dict[str, Group] = {}

    def add(self, st: Statement) -> None:
        group = self._last_on_table.get(st.sql.table)
        if group is not None and group.sql is not st.sql and st.sql.kind == "update" \
                and group.sql.kind == "insert" and group.fold(st):
            # An update of a row the table's latest group inserts (a version registered and
            # made ready by one command): one group, so the batch stays one statement.
            return
        if group is None or group.sql is not st.sql:  # Sql objects are module constants
            group = Group(st.sql)
            self.groups.append(group)
            self._last_on_table[st.sql.table] = group
        group.add(st.values)


_PARAM = re.compile(r"\$(\d+)")


def _shifted(text: str, offset: int) -> str:
    return _PARAM.sub(lambda m: f"${int(m.group(1)) + offset}", text) if offset else text


def combine(groups: Sequence[Group]) -> list[tuple[str, list[Any]]]:
    """Groups as few statements as keep per-table order: consecutive groups on distinct tables
    become the CTEs of one statement."""
    out: list[tuple[str, list[Any]]] = []
    parts: list[str] = []
    args: list[Any] = []
    tables: set[str] = set()

    def flush() -> None:
        if len(parts) == 1:
            out.append((_shifted(parts[0], 0), list(args)))
        elif parts:
            ctes = ", ".join(f"w{i} AS ({p})" for i, p in enumerate(parts))
            out.append((f"WITH {ctes} SELECT 1", list(args)))
        parts.clear()
        args.clear()
        tables.clear()

    for group in groups:
        if group.sql.table in tables:
            flush()
        columns = group.columns()
        parts.append(_shifted(group.sql.text, len(args)))
        args.extend(columns)
        tables.add(group.sql.table)
    flush()
    return out


async def execute(conn: asyncpg.Connection, groups: Sequence[Group]) -> None:
    """Run the groups atomically: as one statement when they fit in one, else in a transaction."""
    statements = combine(groups)
    if len(statements) > 1 and not conn.is_in_transaction():
        async with conn.transaction():
            for text, args in statements:
                await conn.execute(text, *args)
        return
    for text, args in statements:
        await conn.execute(text, *args)
