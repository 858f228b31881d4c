"""The two read paths agree: a replay of the log (`as_of`) and the read models (plain GET) give
the same answer at the head, field for field, timestamps and authors included."""

from registry.http.keys import SERVICE
from tests.support.history import make_history

V1 = "/api/modelog/v1"


async def test_as_of_head_equals_the_live_read_models(live) -> None:
    await make_history(live.app[SERVICE])
    head = str(await live.pool.fetchval("SELECT max(position) FROM events"))
    status, page = await live.call("GET", f"{V1}/models", params={"max_results": "1000"})
    assert status == 200
    names = [m["full_name"] for m in page["registered_models"]]
    # m0 renamed into unity.default, m2 deleted and created again, lab.cv.x carried along by
    # its catalog's and its schema's renames.
    assert len(names) == 6 and "labs.vision.x" in names
    for path, params in ((f"{V1}/catalogs", {}), (f"{V1}/schemas", {"catalog_name": "labs"}),
                         (f"{V1}/schemas", {"catalog_name": "lab"}),
                         (f"{V1}/catalogs/labs", {}), (f"{V1}/schemas/labs.vision", {})):
        _, now = await live.call("GET", path, params=params)
        _, then = await live.call("GET", path, params={**params, "as_of": head})
        assert then == now, path
    compared = 0
    for name in names:
        _, now = await live.call("GET", f"{V1}/models/{name}")
        _, then = await live.call("GET", f"{V1}/models/{name}", params={"as_of": head})
        assert then == now, name
        _, versions = await live.call("GET", f"{V1}/models/{name}/versions")
        _, replayed = await live.call("GET", f"{V1}/models/{name}/versions",
                                      params={"as_of": head})
        assert replayed == versions, name
        for v in versions["model_versions"]:
            _, one = await live.call("GET", f"{V1}/models/{name}/versions/{v['version']}",
                                     params={"as_of": head})
            assert one == v
            compared += 1
        for alias in now["aliases"]:
            path = f"{V1}/models/{name}/aliases/{alias['alias']}"
            assert (await live.call("GET", path))[1] == (await live.call(
                "GET", path, params={"as_of": head}))[1]
    assert compared >= 12


async def test_a_list_of_models_as_of_the_head_pages_as_the_live_one(live) -> None:
    """Renamed, deleted and re-created models among them, a page of one or two at a time."""
    await make_history(live.app[SERVICE])
    head = str(await live.pool.fetchval("SELECT max(position) FROM events"))

    async def pages(size: int, **params: str) -> list[dict]:
        out, token = [], None
        while True:
            query = {**params, "max_results": str(size), **({"page_token": token} if token else {})}
            status, page = await live.call("GET", f"{V1}/models", params=query)
            assert status == 200
            out += page["registered_models"]
            token = page.get("next_page_token")
            if not token:
                return out

    now = await pages(1000)
    assert len(now) == 6
    for size in (1, 2):
        assert await pages(size, as_of=head) == now
    for catalog in {m["catalog_name"] for m in now}:
        assert await pages(1, as_of=head, catalog_name=catalog) == [
            m for m in now if m["catalog_name"] == catalog]
