"""Reads beyond the model itself: catalogs and schemas need their USE (and listings show only
those), a model's history and timeline need what reading it needs, a model as of a past moment is
checked by its identity (not by whichever model bears its old name now), and the views of the
whole log (audit events, the live feed, webhooks, denied attempts) are for admins."""

import pytest

from tests.support.server import TEAM_MODEL as MODEL  # alice's, in the `team` fixture
from tests.support.server import UC, V1, Server, call, patch, use_parents

CATALOG_READS = [f"{V1}/catalogs/unity", f"{UC}/catalogs/unity",
                 f"{V1}/schemas?catalog_name=unity", f"{UC}/schemas?catalog_name=unity"]
SCHEMA_READS = [f"{V1}/schemas/unity.default", f"{UC}/schemas/unity.default"]


async def _grant(server: Server, token: str, securable: str, principal: str, *privileges: str
                 ) -> None:
    status, err, _ = await call(server, "PATCH", f"{V1}/permissions/{securable}", token,
                                json=patch(principal, list(privileges)))
    assert status == 200, err


async def _names(server: Server, path: str, token: str, field: str) -> set[str]:
    status, body, _ = await call(server, "GET", path, token)
    assert status == 200, body
    return {x.get("full_name") or x["name"] for x in body[field]}


async def test_catalogs_and_schemas_need_their_use(team) -> None:
    server, t = team
    await call(server, "POST", f"{V1}/catalogs", t["admin"], json={"name": "hidden"})
    await call(server, "POST", f"{V1}/schemas", t["admin"],
               json={"catalog_name": "unity", "name": "private"})
    for path in CATALOG_READS + SCHEMA_READS + [f"{V1}/catalogs/hidden"]:
        status, err, _ = await call(server, "GET", path, t["bob"])
        assert status == 403 and err["error_code"] == "PERMISSION_DENIED", path
    for prefix in (V1, UC):
        assert await _names(server, f"{prefix}/catalogs", t["bob"], "catalogs") == set()
        assert await _names(server, f"{prefix}/catalogs", t["admin"], "catalogs") == {
            "unity", "hidden"}
    await _grant(server, t["admin"], "catalog/unity", "bob", "USE CATALOG")
    for prefix in (V1, UC):
        assert await _names(server, f"{prefix}/catalogs", t["bob"], "catalogs") == {"unity"}
        # In the catalog, but no schema's USE yet: an empty listing.
        assert await _names(server, f"{prefix}/schemas?catalog_name=unity", t["bob"],
                            "schemas") == set()
    for path in SCHEMA_READS:
        assert (await call(server, "GET", path, t["bob"]))[0] == 403, path
    await _grant(server, t["admin"], "schema/unity.default", "bob", "USE SCHEMA")
    for path in CATALOG_READS + SCHEMA_READS:
        assert (await call(server, "GET", path, t["bob"]))[0] == 200, path
    for prefix in (V1, UC):
        assert await _names(server, f"{prefix}/schemas?catalog_name=unity", t["bob"],
                            "schemas") == {"unity.default"}
    # An owner of the catalog sees all of it; a missing one is still a 404.
    await call(server, "PUT", f"{V1}/owner/catalog/hidden", t["admin"], json={"owner": "bob"})
    assert (await call(server, "GET", f"{V1}/catalogs/hidden", t["bob"]))[0] == 200
    assert (await call(server, "GET", f"{V1}/catalogs/nope", t["bob"]))[0] == 404
    # Revoked: gone from the next request on.
    await call(server, "PATCH", f"{V1}/permissions/catalog/unity", t["admin"],
               json=patch("bob", remove=["USE CATALOG"]))
    assert (await call(server, "GET", SCHEMA_READS[0], t["bob"]))[0] == 403


async def test_history_and_timeline_need_read(team) -> None:
    server, t = team
    await call(server, "POST", f"{V1}/models/{MODEL}/versions", t["alice"], json={"source": "s3://b"})
    await call(server, "PUT", f"{V1}/models/{MODEL}/aliases/champion", t["alice"], json={"version": 1})
    paths = [f"{V1}/models/{MODEL}/history", f"{V1}/models/{MODEL}/timeline",
             f"{V1}/models/{MODEL}/aliases/champion/history",
             f"{V1}/models/{MODEL}/aliases/champion/history?at=1000000",
             f"{V1}/models/{MODEL}/timeline?as_of=1000000",
             f"{V1}/models/{MODEL}?as_of=1000000"]
    for path in paths:
        status, err, _ = await call(server, "GET", path, t["bob"])
        assert status == 403 and err["error_code"] == "PERMISSION_DENIED", path
    await use_parents(server, t["admin"], "bob")
    await _grant(server, t["alice"], f"registered_model/{MODEL}", "bob", "EXECUTE")
    for path in paths:
        assert (await call(server, "GET", path, t["bob"]))[0] == 200, path


async def test_the_past_is_checked_by_identity_not_by_name(team) -> None:
    """alice's model is renamed away and the admin creates another under its old name, which bob
    may read. bob still may not read alice's model as it was under that name; he may read what
    he may read now. A model deleted since is read with what its schema grants now."""
    server, t = team
    await use_parents(server, t["admin"], "bob")
    status, old, _ = await call(server, "GET", f"{V1}/audit/verify", t["admin"])
    assert status == 200
    before = old["head_position"]
    renamed = "unity.default.renamed"
    assert (await call(server, "PATCH", f"{V1}/models/{MODEL}", t["alice"],
                       json={"new_name": renamed}))[0] == 200
    assert (await call(server, "POST", f"{V1}/models", t["admin"], json={"name": MODEL}))[0] == 201
    await _grant(server, t["admin"], f"registered_model/{MODEL}", "bob", "EXECUTE")
    assert (await call(server, "GET", f"{V1}/models/{MODEL}", t["bob"]))[0] == 200  # the new one
    past = [f"{V1}/models/{MODEL}?as_of={before}", f"{V1}/models/{MODEL}/timeline?as_of={before}",
            f"{V1}/models/{MODEL}/aliases/champion/history?at={before}"]
    for path in past:
        status, err, _ = await call(server, "GET", path, t["bob"])
        assert status == 403 and err["error_code"] == "PERMISSION_DENIED", path
    assert await _names(server, f"{V1}/models?catalog_name=unity&as_of={before}", t["bob"],
                        "registered_models") == set()
    assert await _names(server, f"{V1}/models?catalog_name=unity&as_of={before}", t["alice"],
                        "registered_models") == {MODEL}
    # alice reads her own model's past under the name it bore then.
    status, body, _ = await call(server, "GET", f"{V1}/models/{MODEL}?as_of={before}", t["alice"])
    assert status == 200 and body["owner"] == "alice"
    # Deleted since: its own grants ended with it (alice owned it, and is refused now); what its
    # schema grants still counts.
    assert (await call(server, "DELETE", f"{V1}/models/{renamed}", t["alice"]))[0] == 200
    assert (await call(server, "GET", past[0], t["alice"]))[0] == 403
    assert (await call(server, "GET", past[0], t["admin"]))[0] == 200
    assert (await call(server, "GET", past[0], t["bob"]))[0] == 403
    await _grant(server, t["admin"], "schema/unity.default", "bob", "EXECUTE")
    assert (await call(server, "GET", past[0], t["bob"]))[0] == 200


@pytest.mark.parametrize("path", [f"{V1}/audit/events", f"{V1}/audit/events?format=csv",
                                  f"{V1}/audit/denied", f"{V1}/events", f"{V1}/webhooks"])
async def test_views_of_the_whole_log_are_for_admins(team, path: str) -> None:
    server, t = team
    status, err, _ = await call(server, "GET", path, t["alice"])
    assert status == 403 and err["error_code"] == "PERMISSION_DENIED"
    if path != f"{V1}/events":  # a stream: its 200 is enough, seen in test_events_feed
        assert (await call(server, "GET", path, t["admin"]))[0] == 200
    status, _, _ = await call(server, "POST", f"{V1}/webhooks", t["alice"],
                              json={"url": "http://127.0.0.1:9/hook", "events": ["*"]})
    assert status == 403


async def test_who_could_deploy_it_then(team) -> None:
    """Grants are events: the permissions and effective permissions of a moment are folded from
    the log, for the model that bore the name then and for its parents."""
    server, t = team
    path = f"registered_model/{MODEL}"

    async def head() -> int:
        return (await call(server, "GET", f"{V1}/audit/verify", t["admin"]))[1]["head_position"]

    await _grant(server, t["alice"], path, "bob", "MANAGE")
    await _grant(server, t["admin"], "schema/unity.default", "carol", "MANAGE")
    managed = await head()
    await call(server, "PATCH", f"{V1}/permissions/{path}", t["alice"],
               json=patch("bob", remove=["MANAGE"]))
    await call(server, "PUT", f"{V1}/owner/{path}", t["alice"], json={"owner": "dave"})
    for prefix in (V1, UC):
        _, then, _ = await call(server, "GET", f"{prefix}/permissions/{path}?as_of={managed}",
                                t["admin"])
        # UC's own surface answers within UC's spec, which has no MANAGE (docs/security.md).
        assert then == {"privilege_assignments": [] if prefix == UC else [
            {"principal": "bob", "privileges": ["MANAGE"]}]}
        _, now, _ = await call(server, "GET", f"{prefix}/permissions/{path}", t["admin"])
        assert now == {"privilege_assignments": []}
        _, then, _ = await call(server, "GET", f"{prefix}/effective-permissions/{path}"
                                f"?as_of={managed}", t["admin"])
        held = {a["principal"]: {p["privilege"] for p in a["privileges"]}
                for a in then["privilege_assignments"]}
        assert "MANAGE" in held["bob"] and "MANAGE" in held["carol"] and "MANAGE" in held["alice"]
        assert "dave" not in held
        _, now, _ = await call(server, "GET", f"{prefix}/effective-permissions/{path}", t["admin"])
        held = {a["principal"] for a in now["privilege_assignments"]}
        assert "bob" not in held and "dave" in held and "alice" not in held
    # Before the model existed: nothing to say. Reading the past takes reading the object now:
    # alice, who gave it away, and bob, revoked, may not.
    status, err, _ = await call(server, "GET", f"{V1}/permissions/{path}?as_of=1", t["admin"])
    assert status == 404, err
    for who in ("alice", "bob"):
        status, _, _ = await call(server, "GET", f"{V1}/permissions/{path}?as_of={managed}", t[who])
        assert status == 403
