"""The in-memory tables a rebuild folds into behave as PostgreSQL does with the same statements
(the rebuild tests compare whole histories; these pin the edge cases)."""

from uuid import UUID, uuid4

import pytest

from projections.memory import MemoryTables
from registry.eventstore.statements import delete, insert, update

KEY = {"model_id": "uuid", "version": "int"}
INSERT = insert("v", {**KEY, "source": "text"})
UPSERT = insert("v", {**KEY, "source": "text"}, upsert_on=tuple(KEY))
TOUCH = update("v", KEY, {"source": "text"})
DROP_ONE = delete("v", KEY)
DROP_MODEL = delete("v", {"model_id": "uuid"})


def tables() -> MemoryTables:
    return MemoryTables({"v": ("model_id", "version")})


def test_a_uuid_given_as_text_or_as_uuid_is_one_key() -> None:
    m, a = tables(), uuid4()
    m.apply(INSERT, (a, 1, "s3://1"))
    m.apply(TOUCH, (str(a), 1, "s3://2"))
    assert list(m.rows["v"].values()) == [{"model_id": str(a), "version": 1, "source": "s3://2"}]


def test_a_plain_insert_on_an_existing_key_fails_and_an_upsert_replaces() -> None:
    m, a = tables(), str(uuid4())
    m.apply(INSERT, (a, 1, "x"))
    with pytest.raises(ValueError, match="duplicate key"):
        m.apply(INSERT, (a, 1, "y"))
    m.apply(UPSERT, (a, 1, "y"))
    assert m.rows["v"][(a, 1)]["source"] == "y"


def test_updates_and_deletes_touch_what_matches_and_nothing_else() -> None:
    m, a, b = tables(), str(uuid4()), str(uuid4())
    for model in (a, b):
        for v in (1, 2, 3):
            m.apply(INSERT, (model, v, f"{model}/{v}"))
    m.apply(TOUCH, (a, 9, "nowhere"))  # no such row: no change, no error
    m.apply(DROP_ONE, (a, 2))
    m.apply(DROP_MODEL, (b,))  # a key shorter than the primary key
    m.apply(INSERT, (b, 1, "again"))  # the prefix index follows later inserts
    m.apply(DROP_MODEL, (UUID(b),))
    assert sorted(m.rows["v"]) == [(a, 1), (a, 3)]
