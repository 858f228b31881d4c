"""The planner keeps a batch's statements on one table in as few groups as keep their meaning: an
update of a row inserted earlier in the batch goes into that row, so registering a version and
making it ready stays one statement."""

from uuid import uuid4

from registry.eventstore.statements import Planner, combine, delete, insert, update

KEY = {"model_id": "uuid", "version": "int"}
INSERT = insert("v", {**KEY, "source": "text", "status": "text", "note": "text"})
UPSERT = insert("v", {**KEY, "source": "text", "status": "text"}, upsert_on=tuple(KEY))
STATUS = update("v", KEY, {"status": "text"})
NOTE = update("v", KEY, {"note": "text"})
DROP = delete("v", KEY)
OTHER = insert("w", {"id": "int"})


def planned(*statements) -> Planner:
    planner = Planner()
    for st in statements:
        planner.add(st)
    return planner


def test_an_update_of_a_row_inserted_in_the_batch_goes_into_that_row() -> None:
    a = uuid4()
    p = planned(INSERT(a, 1, "s3://1", "PENDING", None), OTHER(1), STATUS(str(a), 1, "READY"),
                INSERT(a, 2, "s3://2", "PENDING", None), STATUS(a, 2, "READY"))
    assert [g.sql for g in p.groups] == [INSERT, OTHER]
    assert list(p.groups[0].rows.values()) == [(a, 1, "s3://1", "READY", None),
                                               (a, 2, "s3://2", "READY", None)]
    assert len(combine(p.groups)) == 1


def test_an_update_of_a_row_not_inserted_in_the_batch_follows_the_insert() -> None:
    a = uuid4()
    p = planned(INSERT(a, 1, "s3://1", "PENDING", None), STATUS(a, 7, "READY"))
    assert [g.sql for g in p.groups] == [INSERT, STATUS]
    assert list(p.groups[0].rows.values()) == [(a, 1, "s3://1", "PENDING", None)]


def test_an_update_after_another_statement_on_the_table_keeps_its_place() -> None:
    a = uuid4()
    p = planned(INSERT(a, 1, "s3://1", "PENDING", None), DROP(a, 1), STATUS(a, 1, "READY"))
    assert [g.sql for g in p.groups] == [INSERT, DROP, STATUS]


def test_an_update_folds_into_an_upsert_and_the_last_assignment_wins() -> None:
    a = uuid4()
    p = planned(UPSERT(a, 1, "s3://1", "PENDING"), STATUS(a, 1, "READY"),
                UPSERT(a, 2, "s3://2", "PENDING"), STATUS(a, 1, "FAILED"))
    assert [g.sql for g in p.groups] == [UPSERT]
    assert p.groups[0].rows[(a, 1)] == (a, 1, "s3://1", "FAILED")


def test_an_update_setting_a_column_the_insert_leaves_out_does_not_fold() -> None:
    a = uuid4()
    p = planned(UPSERT(a, 1, "s3://1", "PENDING"), NOTE(a, 1, "x"))
    assert [g.sql for g in p.groups] == [UPSERT, NOTE]


def test_an_update_of_a_key_column_moves_the_row_under_its_new_key() -> None:
    by_name = insert("c", {"name": "text", "stream": "text", "comment": "text"})
    rename = update("c", {"stream": "text"}, {"name": "text"})
    comment = update("c", {"name": "text"}, {"comment": "text"})
    p = planned(by_name("a", "s1", None), comment("a", "first"), rename("s1", "b"),
                comment("a", "gone"), comment("b", "second"))
    # The update of `a` after the rename matches no inserted row: it keeps its place after the
    # insert, and the next update joins it there.
    assert [g.sql for g in p.groups] == [by_name, comment]
    assert list(p.groups[0].rows.values()) == [("b", "s1", "first")]
    assert list(p.groups[1].rows.values()) == [("a", "gone"), ("b", "second")]
    again = planned(by_name("a", "s1", None), comment("a", "first"), rename("s1", "b"),
                    comment("b", "second"))
    assert [g.sql for g in again.groups] == [by_name]
    assert list(again.groups[0].rows.values()) == [("b", "s1", "second")]
