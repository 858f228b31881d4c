"""The plans of the statements every list and search runs, on read models big enough that
PostgreSQL would rather scan a table than walk an index if the statement left it no range.

Lists run as cached statements, so their plan is checked as a cached statement's generic plan
(the one it keeps after its first executions, blind to the values) as well as for the values: a
deep page must start its index scan at the page's key (the key is in the index condition), or a
page costs as much as every page before it. Searches with a filter are planned for their values
(`queries.fetch_planned`), so theirs is checked that way: each filter is answered by its index,
no table is read whole. The last test shows the check is not a formality: the statement form this
replaced (`$1 IS NULL OR name > $1`) fails it."""

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from registry.reads import mlflow_pages, queries, search
from registry.reads.search import ModelFilter
from registry.service.write_model import RegistryWriteModel
from tests.support.plans import Recorder, conditions_of, explain, indexes, seq_scans

MODELS = 20_000
BIG = {"registered_models", "model_versions", "model_tags", "version_tags", "catalogs", "schemas"}
Read = Callable[[Any], Awaitable[Any]]


async def fill(pool: asyncpg.Pool) -> UUID:
    """Read-model rows written directly (a plan depends on the rows, not how they came): 20,000
    models in unity.default and 2,000 in other schemas, every 50th tagged team=fraud and one
    team=rare, versions for every 10th (one tagged gate=rare), 3,000 catalogs and schemas, and
    one model with 3,000 versions. Returns that model's id."""
    async with pool.acquire() as conn:
        await conn.execute("""
            INSERT INTO catalogs (name, id, owner, created_at, created_by, updated_at, updated_by,
                                  stream_id)
            SELECT 'cat_' || lpad(i::text, 5, '0'), gen_random_uuid(), 'o', now(), 'o', now(), 'o',
                   'catalog:' || i FROM generate_series(1, 3000) i;
            INSERT INTO schemas (catalog_name, name, id, owner, created_at, created_by, updated_at,
                                 updated_by, stream_id)
            SELECT 'unity', 'schema_' || lpad(i::text, 5, '0'), gen_random_uuid(), 'o', now(),
                   'o', now(), 'o', 'schema:' || i FROM generate_series(1, 3000) i;
            INSERT INTO registered_models (id, catalog_name, schema_name, name, full_name, owner,
                                           created_at, created_by, updated_at, updated_by)
            SELECT gen_random_uuid(), 'unity', s, n, 'unity.' || s || '.' || n, 'o',
                   now() - i * interval '1 s', 'o', now() - i * interval '1 s', 'o'
            FROM generate_series(1, 22000) i,
                 LATERAL (SELECT CASE WHEN i <= 20000 THEN 'default'
                                      ELSE 'other_' || (i % 7) END AS s,
                                 (ARRAY['churn', 'fraud', 'ranker', 'vision'])[1 + i % 4] || '_'
                                 || lpad(i::text, 7, '0') AS n) x;
            INSERT INTO model_tags (model_id, key, value)
            SELECT id, 'team', CASE WHEN name LIKE '%0012350' THEN 'rare' ELSE 'fraud' END
            FROM registered_models WHERE right(name, 2)::int % 50 = 0;
            INSERT INTO model_versions (model_id, version, source, run_id, status, created_at,
                                        created_by, updated_at, updated_by)
            SELECT id, v, 's3://b', md5(name || v), 'READY', now(), 'o',
                   now() - (right(name, 7)::int * 3 + v) * interval '1 ms', 'o'
            FROM registered_models, generate_series(1, 3) v
            WHERE right(name, 1) = '0';
            INSERT INTO version_tags (model_id, version, key, value)
            SELECT model_id, version, 'gate', CASE WHEN run_id = md5('ranker_0012350' || '1')
                                                   THEN 'rare' ELSE 'passed' END
            FROM model_versions WHERE version = 1;
            INSERT INTO registered_models (id, catalog_name, schema_name, name, full_name, owner,
                                           created_at, created_by, updated_at, updated_by)
            VALUES (gen_random_uuid(), 'unity', 'default', 'hot', 'unity.default.hot', 'o', now(),
                    'o', now(), 'o');
            INSERT INTO model_versions (model_id, version, source, status, created_at, created_by,
                                        updated_at, updated_by)
            SELECT (SELECT id FROM registered_models WHERE name = 'hot'), v, 's3://h', 'READY',
                   now(), 'o', now(), 'o' FROM generate_series(1, 3000) v;
            ANALYZE;
        """)
        return await conn.fetchval("SELECT id FROM registered_models WHERE name = 'hot'")


async def plans(pool: asyncpg.Pool, read: Read, *, generic: bool,
                seqscan: bool = True) -> list[dict[str, Any]]:
    """The plan of each statement `read` fetches with."""
    async with pool.acquire() as conn:
        rec = Recorder(conn)
        await read(rec)
        assert rec.fetched
        return [await explain(conn, sql, args, generic=generic, seqscan=seqscan)
                for sql, args in rec.fetched]


def assert_walks(plan: dict[str, Any], index: str | tuple[str, ...], key: str | None) -> None:
    """The plan reads through `index` (or one of them), starting at the page's `key` (an index
    condition, not a filter), and reads none of the big tables whole."""
    allowed = (index,) if isinstance(index, str) else index
    assert set(allowed) & set(indexes(plan)), (index, plan)
    assert not BIG & set(seq_scans(plan)), plan
    if key is not None:
        assert any(key in cond for i in allowed for cond in conditions_of(plan, i)), (key, plan)


def mlflow(kind: str, filter_: str | None, token: list[Any] | None = None) -> Read:
    fn = mlflow_pages.models if kind == "models" else mlflow_pages.versions
    page = None if token is None else queries.encode_token(token)
    return lambda db: fn(db, mlflow_pages.Search("unity.default", filter_, [], page, 100))


async def test_every_list_walks_an_index_from_its_key(pool: asyncpg.Pool) -> None:
    hot = await fill(pool)
    deep_version = await pool.fetchrow(
        "SELECT v.updated_at, m.name, v.version FROM model_versions v JOIN registered_models m "
        "ON m.id = v.model_id WHERE m.name <> 'hot' ORDER BY v.updated_at DESC, m.name, "
        "v.version DESC OFFSET 5000 LIMIT 1")
    default = ModelFilter("unity", "default")
    cases: list[tuple[Read, Read, str | tuple[str, ...], str]] = [
        (lambda db: queries.list_catalogs(db, None, 101),
         lambda db: queries.list_catalogs(db, "cat_02700", 101), "catalogs_pkey", "name >"),
        (lambda db: queries.list_schemas(db, "unity", None, 101),
         lambda db: queries.list_schemas(db, "unity", "schema_02700", 101), "schemas_pkey",
         "name >"),
        (lambda db: search.models(db, default, None, 101),
         lambda db: search.models(db, default, "unity.default.ranker_0018001", 101),
         "registered_models_schema", "name >"),
        (lambda db: search.models(db, ModelFilter("unity"), None, 101),
         lambda db: search.models(db, ModelFilter("unity"), "unity.default.ranker_0018001", 101),
         ("registered_models_catalog", "registered_models_full_name_key"), "full_name >"),
        (lambda db: search.models(db, ModelFilter(), None, 101),
         lambda db: search.models(db, ModelFilter(), "unity.default.ranker_0018001", 101),
         "registered_models_full_name_key", "full_name >"),
        (lambda db: queries.list_versions(db, hot, None, 101),
         lambda db: queries.list_versions(db, hot, 2700, 101),
         # Or the stage index, skipping over the stages (PostgreSQL 18), the key still its bound.
         ("model_versions_pkey", "model_versions_stage"), "version >"),
        (mlflow("models", None), mlflow("models", None, ["ranker_0018001"]),
         "registered_models_schema", "name >"),
        (mlflow("versions", None),
         mlflow("versions", None, [deep_version[0].isoformat(), deep_version[1],
                                   deep_version[2]]),
         "model_versions_updated", "updated_at <="),
    ]
    for first, deep, index, key in cases:
        for generic in (True, False):
            for plan in await plans(pool, first, generic=generic):
                assert_walks(plan, index, None)
            for plan in await plans(pool, deep, generic=generic):
                assert_walks(plan, index, key)


RUN_ID = hashlib.md5(b"ranker_00123502").hexdigest()
# (search, filter, the index that must answer it, a value its index condition must name)
FILTERS = [
    ("models", "name = 'ranker_0012350'", "registered_models_schema", "ranker_0012350"),
    ("models", "name LIKE '%0012350%'", "registered_models_name_trgm", "%0012350%"),
    ("models", "name LIKE 'ranker_001235%'", "registered_models_name_trgm", "ranker_001235%"),
    ("models", "name ILIKE '%RANKER_0012350%'", "registered_models_name_trgm", "RANKER_0012350"),
    ("models", "tags.team = 'rare'", "model_tags_key_value", "rare"),
    ("versions", "name = 'ranker_0012350'", "registered_models_schema", "ranker_0012350"),
    ("versions", "name ILIKE '%KER_001235%'", "registered_models_name_trgm", "KER_001235"),
    ("versions", f"run_id = '{RUN_ID}'", "model_versions_run_id", RUN_ID),
    ("versions", "version_number = 2999", "model_versions_number", "2999"),
    ("versions", "tags.gate = 'rare'", "version_tags_key_value", "rare"),
]


async def test_mlflow_filters_are_answered_by_their_index(pool: asyncpg.Pool) -> None:
    """At 20,000 models reading a table whole still costs less than some index lookups (a
    trigram search); at a million it does not (bench/pages.py shows the plans there). So the
    question asked here is which index answers the filter when a whole-table read is not an
    option: the filter's own index, its value in the index condition, not a walk of every model
    in name order (what a filter on an expression no index covers, or a missing index, gives)."""
    await fill(pool)
    for kind, filter_, index, value in FILTERS:
        read = mlflow(kind, filter_)
        rows, _ = await read(pool)
        assert rows, f"{filter_} finds nothing: the plan of an empty search proves little"
        for plan in await plans(pool, read, generic=False, seqscan=False):
            assert not BIG & set(seq_scans(plan)), (filter_, plan)
            assert any(value in c for c in conditions_of(plan, index)), (filter_, index, plan)


async def test_the_check_fails_a_keyset_condition_no_index_can_bound(pool: asyncpg.Pool) -> None:
    """The statement form the lists used before: its generic plan filters on the key instead of
    starting at it, and `assert_walks` says so; the form they use now passes, same data."""
    await fill(pool)
    args = ("unity", "default", "ranker_0018001")
    then = ("SELECT * FROM registered_models m WHERE m.catalog_name = $1 AND m.schema_name = $2 "
            "AND ($3::text IS NULL OR m.name > $3) ORDER BY m.name LIMIT 101")
    now = ("SELECT * FROM registered_models m WHERE m.catalog_name = $1 AND m.schema_name = $2 "
           "AND m.name > $3 ORDER BY m.name LIMIT 101")
    async with pool.acquire() as conn:
        before = await explain(conn, then, args, generic=True)
        after = await explain(conn, now, args, generic=True)
    with pytest.raises(AssertionError):
        assert_walks(before, "registered_models_schema", "name >")
    assert_walks(after, "registered_models_schema", "name >")


async def test_latest_versions_probe_the_stage_index(pool: asyncpg.Pool) -> None:
    """MLflow's latest versions (every get of a registered model): the newest version in each
    stage comes from model_versions_stage, for the model with 3,000 versions and one with three,
    and no index is walked by version number alone across every model's versions. (That walk,
    for a stage the model lacks, is what an index on the bare version column invited in
    bench/history.py: 45 ms a get; here, with fresh statistics, the planner avoided it anyway.)"""
    hot = await fill(pool)
    small = await pool.fetchval("SELECT model_id FROM model_versions GROUP BY model_id "
                                "HAVING count(*) = 3 LIMIT 1")
    for model in (hot, small):
        read = lambda db, m=model: queries.latest_versions(db, [m])  # noqa: E731
        for generic in (True, False):
            for plan in await plans(pool, read, generic=generic):
                assert "model_versions_stage" in indexes(plan), plan
                assert not BIG & set(seq_scans(plan)), plan
                assert "model_versions_number" not in indexes(plan), plan


async def test_the_write_models_lookups_probe_their_indexes(pool: asyncpg.Pool) -> None:
    """What the write model looks up of models it does not hold (registry/service/write_model.py):
    by name or identity through the unique keys, a schema's or a catalog's every model through
    registered_models_schema or _catalog; never a scan of every model."""
    await fill(pool)
    one = await pool.fetchrow("SELECT id, full_name FROM registered_models LIMIT 1")
    lookups: list[Read] = [
        lambda db: RegistryWriteModel().know(db, names=[one["full_name"], "unity.x.y"]),
        lambda db: RegistryWriteModel().know(db, ids=[one["id"]]),
        lambda db: RegistryWriteModel().know_under(db, "unity.other_3."),
        lambda db: RegistryWriteModel().know_under(db, "cat_00007."),
    ]
    for n, read in enumerate(lookups):
        for generic in (True, False)[n // 2:]:  # those of namespaces are planned for their values
            for plan in await plans(pool, read, generic=generic):
                assert indexes(plan) and not BIG & set(seq_scans(plan)), (n, generic, plan)
