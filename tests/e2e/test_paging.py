"""Every list and search, paged in small steps on each surface, yields exactly what one big page
yields, in the same order: keyset paging (registry/reads) skips nothing and repeats nothing,
whatever statement each page runs (the first page's and the pages after a key differ)."""

import re
from html import unescape
from typing import Any
from urllib.parse import unquote

V1 = "/api/modelog/v1"
UC = "/api/2.1/unity-catalog"
ML = "/api/2.0/mlflow"

# Names that sort differently byte-wise and case-wise, with LIKE's own wildcards in them.
NAMES = ["alpha", "Alpha_2", "beta-1", "beta_1", "beta%x", "gamma", "zeta", "a", "a.b", "omega",
         "Omega", "delta_9", "delta_10", "eta", "theta", "iota", "kappa", "lambda", "mu", "nu"]


async def ok(live, method: str, path: str, status: int = 200, **kw: Any) -> Any:
    async with live.http.request(method, path, **kw) as r:
        body = await r.json()
        assert r.status == status, (method, path, r.status, body)
        return body


async def paged(live, path: str, field: str, size: int, **params: Any) -> list[Any]:
    """Every item of every page, following next_page_token."""
    out: list[Any] = []
    token = None
    for _ in range(200):
        query = {**params, "max_results": str(size), **({"page_token": token} if token else {})}
        body = await ok(live, "GET", path, params=query)
        items = body.get(field, [])
        assert len(items) <= size
        out += items
        token = body.get("next_page_token")
        if not token:
            return out
    raise AssertionError(f"{path} does not stop paging")


async def same_in_steps(live, path: str, field: str, key: str, **params: Any) -> list[Any]:
    """The list in pages of 1, 3 and 7 equals the list in one page; returns its keys."""
    whole = [x[key] for x in await paged(live, path, field, 1000, **params)]
    for size in (1, 3, 7):
        assert [x[key] for x in await paged(live, path, field, size, **params)] == whole, \
            (path, params, size)
    return whole


async def db_sorted(live, names: Any) -> list[str]:
    """`names` in the database's own collation: the order every list promises."""
    return await live.pool.fetchval(
        "SELECT coalesce(array_agg(x ORDER BY x), '{}') FROM unnest($1::text[]) x", list(names))


async def build(live) -> None:
    for c in ("unity", "b_cat", "a_cat", "Z_cat"):
        if c != "unity":
            await ok(live, "POST", f"{V1}/catalogs", 201, json={"name": c})
    for s in ("s1", "s2", "S0", "s_3", "s10"):
        await ok(live, "POST", f"{V1}/schemas", 201, json={"catalog_name": "unity", "name": s})
    for i, name in enumerate(NAMES):
        for schema in ("default", "s1"):
            full = f"unity.{schema}.{name}"
            await ok(live, "POST", f"{V1}/models", 201, json={"name": full})
            if i % 3 == 0:
                await ok(live, "PUT", f"{V1}/models/{full}/tags/team", json={"value": "fraud"})
    for v in range(12):
        await ok(live, "POST", f"{V1}/models/unity.default.alpha/versions", 201,
                 json={"source": f"s3://b/alpha/{v}", "run_id": f"run{v % 4}"})
    for name in ("beta_1", "gamma"):
        for v in range(3):
            await ok(live, "POST", f"{V1}/models/unity.default.{name}/versions", 201,
                     json={"source": f"s3://b/{name}/{v}", "run_id": f"run{v}"})


async def test_every_list_pages_to_the_whole_list(live) -> None:
    await build(live)
    catalogs = await same_in_steps(live, f"{V1}/catalogs", "catalogs", "name")
    assert catalogs == await db_sorted(live, catalogs) and len(catalogs) == 4
    assert await same_in_steps(live, f"{UC}/catalogs", "catalogs", "name") == catalogs
    schemas = await same_in_steps(live, f"{V1}/schemas", "schemas", "name", catalog_name="unity")
    assert schemas == await db_sorted(live, schemas) and len(schemas) == 6
    assert await same_in_steps(live, f"{UC}/schemas", "schemas", "name",
                               catalog_name="unity") == schemas

    in_schema = await same_in_steps(live, f"{V1}/models", "registered_models", "full_name",
                                    catalog_name="unity", schema_name="default")
    assert in_schema == await db_sorted(live, (f"unity.default.{n}" for n in NAMES))
    assert await same_in_steps(live, f"{UC}/models", "registered_models", "full_name",
                               catalog_name="unity", schema_name="default") == in_schema
    everything = await same_in_steps(live, f"{V1}/models", "registered_models", "full_name")
    assert everything == await db_sorted(
        live, (f"unity.{s}.{n}" for s in ("default", "s1") for n in NAMES))
    patterned = await same_in_steps(live, f"{V1}/models", "registered_models", "full_name",
                                    catalog_name="unity", name_pattern="*eta*")
    assert patterned == [m for m in everything if "eta" in m.rsplit(".", 1)[1]]

    versions = await same_in_steps(live, f"{V1}/models/unity.default.alpha/versions",
                                   "model_versions", "version")
    assert versions == list(range(1, 13))
    assert await same_in_steps(live, f"{UC}/models/unity.default.alpha/versions",
                               "model_versions", "version") == versions


async def test_mlflow_searches_page_to_the_whole_result(live) -> None:
    await build(live)
    search = f"{ML}/registered-models/search"
    names = await same_in_steps(live, search, "registered_models", "name")
    assert names == await db_sorted(live, NAMES)
    assert await same_in_steps(live, search, "registered_models", "name",
                               filter="tags.team = 'fraud'") == await db_sorted(live, NAMES[::3])
    assert await same_in_steps(live, search, "registered_models", "name",
                               filter="name LIKE 'beta%'") == await db_sorted(
        live, ["beta%x", "beta-1", "beta_1"])
    assert await same_in_steps(live, search, "registered_models", "name",
                               filter="name ILIKE '%ALPHA%'") == await db_sorted(
        live, ["Alpha_2", "alpha"])
    by_update = await same_in_steps(live, search, "registered_models", "name",
                                    order_by="last_updated_timestamp DESC")
    assert await db_sorted(live, by_update) == names

    versions = f"{ML}/model-versions/search"

    def key(v: dict) -> tuple[str, str]:
        return v["name"], v["version"]

    default_order = [key(v) for v in await paged(live, versions, "model_versions", 1000)]
    assert len(default_order) == 18
    for size in (1, 4):
        assert [key(v) for v in await paged(live, versions, "model_versions", size)] \
            == default_order
    for flt in ("run_id = 'run1'", "name = 'alpha'", "version_number >= 2",
                "name LIKE '%a%' AND version_number < 3"):
        whole = [key(v) for v in await paged(live, versions, "model_versions", 1000, filter=flt)]
        assert whole and whole == [k for k in default_order if k in set(whole)], flt
        assert [key(v) for v in await paged(live, versions, "model_versions", 2, filter=flt)] \
            == whole, flt
    by_number = [key(v) for v in await paged(live, versions, "model_versions", 5,
                                             order_by="version_number ASC")]
    assert by_number == sorted(default_order, key=lambda k: (int(k[1]), k[0]))


async def test_the_ui_browse_list_pages_to_the_whole_list(live) -> None:
    """The UI's pages are 50 models: 60 models take two, following its 'Next models' link."""
    for i in range(60):
        await ok(live, "POST", f"{V1}/models", 201, json={"name": f"unity.default.m{i:02d}_{i % 7}"})
    shown: list[str] = []
    url = "/ui/models?catalog=unity&schema=default"
    for _ in range(5):
        async with live.http.get(url) as r:
            assert r.status == 200
            html = await r.text()
        shown += [unquote(m) for m in re.findall(r'<td><a href="/ui/models/([^"]+)">', html)]
        after = re.search(r'<a rel="next" href="([^"]+)"', html)
        if after is None:
            break
        url = unescape(after.group(1))
    assert shown == await db_sorted(live, (f"unity.default.m{i:02d}_{i % 7}" for i in range(60)))
