"""The inline projections' statements carried out on tables held in memory, for a rebuild.

A rebuild from empty tables does not need PostgreSQL to run every statement: an insert, upsert,
update or delete on rows keyed by their primary key is a dictionary operation, and the final rows
go to the scratch tables with one COPY each. This runs the very statements the projections give
(`Sql.kind` and `Sql.columns` say what each does) with PostgreSQL's semantics: a plain insert on an
existing key fails, an upsert replaces the other columns, an update or delete touches every row
that matches its key (which may be a prefix of the primary key) and none if none matches. So a
rebuild compared with the live tables checks the projection code against what PostgreSQL did.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from registry.eventstore.statements import Sql, Statement

Row = dict[str, Any]
Key = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class _Compiled:
    """What applying one `Sql` needs, worked out once per statement text."""

    names: tuple[str, ...]
    uuids: tuple[int, ...]  # positions of uuid values: one representation for UUID and text
    key: tuple[str, ...]  # what an update or delete matches on
    changes: tuple[str, ...]  # what an update sets


def _compile(sql: Sql, primary_key: tuple[str, ...]) -> _Compiled:
    names = tuple(c for c, _ in sql.columns)
    uuids = tuple(i for i, (_, t) in enumerate(sql.columns) if t == "uuid")
    key_len = {"insert": 0, "update": sql.key_len, "delete": len(names)}[sql.kind]
    key = primary_key if sql.kind == "insert" else names[:key_len]
    return _Compiled(names, uuids, key, names[key_len:] if sql.kind == "update" else ())


class MemoryTables:
    def __init__(self, primary_keys: dict[str, tuple[str, ...]]) -> None:
        self.primary_keys = primary_keys
        self.rows: dict[str, dict[Key, Row]] = {t: {} for t in primary_keys}
        # (table, key columns) -> key values -> primary keys, for keys shorter than the primary
        self._indexes: dict[tuple[str, tuple[str, ...]], dict[Key, set[Key]]] = {}
        self._indexed_columns: dict[str, set[str]] = {}
        self._compiled: dict[int, _Compiled] = {}

    def apply_all(self, statements: Iterable[Statement]) -> None:
        for st in statements:
            self.apply(st.sql, st.values)

    def apply(self, sql: Sql, values: tuple[Any, ...]) -> None:
        c = self._compiled.get(id(sql))
        if c is None:  # Sql objects are module constants: id() is a stable key
            c = self._compiled[id(sql)] = _compile(sql, self.primary_keys[sql.table])
        if c.uuids:
            values = tuple(str(v) if i in c.uuids and isinstance(v, UUID) else v
                           for i, v in enumerate(values))
        row = dict(zip(c.names, values, strict=True))
        table = self.rows[sql.table]
        if sql.kind == "insert":
            pk = tuple(row[k] for k in c.key)
            existing = table.get(pk)
            if existing is None:
                table[pk] = row
                if sql.table in self._indexed_columns:
                    self._indexed(sql.table, pk, row)
            elif sql.key_len:
                existing.update(row)
            else:
                raise ValueError(f"duplicate key {pk} in {sql.table}")
            return
        for pk in self._matching(sql.table, c.key, tuple(row[k] for k in c.key)):
            if sql.kind == "delete":
                self._unindexed(sql.table, pk, table.pop(pk))
                continue
            changes = {k: row[k] for k in c.changes}
            # An update may change the primary key itself (a rename, found by another key):
            # the row moves to its new key, as PostgreSQL's row would answer to it.
            new_pk = tuple(changes.get(k, table[pk][k]) for k in self.primary_keys[sql.table])
            reindex = new_pk != pk or \
                not self._indexed_columns.get(sql.table, set()).isdisjoint(changes)
            if reindex:
                self._unindexed(sql.table, pk, table[pk])
            table[pk].update(changes)
            if new_pk != pk:
                if new_pk in table:
                    raise ValueError(f"duplicate key {new_pk} in {sql.table}")
                table[new_pk] = table.pop(pk)
            if reindex:
                self._indexed(sql.table, new_pk, table[new_pk])

    def _matching(self, table: str, names: tuple[str, ...], key: Key) -> list[Key]:
        if names == self.primary_keys[table]:
            return [key] if key in self.rows[table] else []
        index = self._indexes.get((table, names))
        if index is None:
            index = self._indexes[(table, names)] = {}
            self._indexed_columns.setdefault(table, set()).update(names)
            for pk, row in self.rows[table].items():
                index.setdefault(tuple(row[c] for c in names), set()).add(pk)
        return list(index.get(key, ()))

    def _indexed(self, table: str, pk: Key, row: Row) -> None:
        for (t, names), index in self._indexes.items():
            if t == table:
                index.setdefault(tuple(row[c] for c in names), set()).add(pk)

    def _unindexed(self, table: str, pk: Key, row: Row) -> None:
        for (t, names), index in self._indexes.items():
            if t == table:
                index.get(tuple(row[c] for c in names), set()).discard(pk)

    async def copy_to(self, conn: asyncpg.Connection, schema: str) -> int:
        """COPY every row into `schema`'s tables. Rows are grouped by the columns they have, so
        a column no statement set takes the table's default, as it would in an INSERT."""
        count = 0
        for table, rows in self.rows.items():
            by_columns: dict[tuple[str, ...], list[tuple]] = {}
            for row in rows.values():
                columns = tuple(row)
                by_columns.setdefault(columns, []).append(tuple(row.values()))
            for columns, records in by_columns.items():
                await conn.copy_records_to_table(table, records=records, columns=list(columns),
                                                 schema_name=schema)
                count += len(records)
        return count


async def primary_keys(conn: asyncpg.Connection, schema: str) -> dict[str, tuple[str, ...]]:
    rows = await conn.fetch(
        "SELECT c.relname, array_agg(a.attname::text ORDER BY array_position(i.indkey, a.attnum)) "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey) "
        "WHERE n.nspname = $1 AND i.indisprimary GROUP BY c.relname", schema)
    return {r[0]: tuple(r[1]) for r in rows}
