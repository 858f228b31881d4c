"""Issue 6's hostile input over real HTTP, on every surface (the scene is tests/attackers.py):
traversal, encodings and look-alikes in names, SQL metacharacters in names, tags, filters and page
tokens, oversized, deeply nested and malformed bodies. Each answer is a clean 4xx in the
surface's own error format, never a 500 nor another object, and nothing reaches the log."""

import asyncio
import base64
import json
import re
from typing import Any
from urllib.parse import quote

import pytest

from registry.http.keys import POOL
from tests.support.attackers import ML, SECRET, UC, V1, World, assert_error
from tests.support.server import serving

_REQUEST_ID = re.compile(r"[0-9a-f]{32}")  # one the server made
# Names as sent in a path segment or a query value (already percent-encoded).
HOSTILE_NAMES = [
    "..", "%2e%2e", "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "..%2F..%2F..%2Fetc%2Fpasswd",
    "..%5C..%5Cwindows", "%252e%252e%252f", "unity.default.secret%2F..", "unity.default.secret%252F",
    "unity.default.secret%00", "unity.default.secret%00.txt", "unity.default.%00secret",
    "unity.default.secret.", "unity.default.secret..", "unity.default.secret%20", "%20unity.default.secret",
    "unity.default.secret%09", "unity.default.secret%0d%0aX-Injected:%201", "unity.default.SECRET",
    "unity.default.%D1%95ecret",  # Cyrillic dze for the s
    "unity.default.%EF%BD%93%EF%BD%85%EF%BD%83%EF%BD%92%EF%BD%85%EF%BD%94",  # fullwidth letters
    "unity.default.secre%E2%80%8Bt",  # a zero-width space inside
    "unity.default.secret%E2%80%AE", "unity.default.secret%C0%AE", "unity.default.secret%ff",
    "unity..secret", ".unity.default.secret", "unity.default.secret.versions",
    "unity.default.secret'%20OR%20'1'='1", "unity.default.secret%22%3B--", "unity.default.%25",
    "unity.default.secre_", "unity.default.sec%5C",
]


def by_name(n: str) -> list[str]:
    return [f"{V1}/models/{n}", f"{V1}/models/{n}/versions/1", f"{V1}/models/{n}/aliases/champion",
            f"{V1}/models/{n}/timeline", f"{V1}/permissions/registered_model/{n}",
            f"{UC}/models/{n}", f"{UC}/models/{n}/aliases/champion", f"{UC}/schemas/{n}",
            f"{V1}/catalogs/{n}", f"{ML}/registered-models/get?name={n}",
            f"{ML}/registered-models/alias?name={n}&alias=champion",
            f"{ML}/model-versions/get?name={n}&version=1"]


@pytest.mark.parametrize("who", ["admin", "mallory"])
async def test_hostile_names_in_paths_and_queries_reach_nothing(world: World, who: str) -> None:
    """Even the admin, who may read everything, gets no object: nothing decodes, normalises or
    matches its way to alice's model; mallory gets no 403 that says it exists."""
    w = world
    before = await w.log_size()
    for name in HOSTILE_NAMES:
        for path in by_name(name):
            status, body = await w.call(who, "GET", path)
            assert_error(path, status, body, 400, 404)
            assert w.model_id not in str(body) and "s3://alice" not in str(body), path
    for alias in ("..", "%2e%2e", "champion%00", "champion.", "champion%20", "CHAMPION",
                  "%EF%BD%83hampion", "champion%2F..", "champion'--", "latest", "v1"):
        # MLflow's server resolves the reserved `latest` to the highest version.
        mlflow = [] if alias == "latest" else [f"{ML}/registered-models/alias?name=secret&alias={alias}"]
        for path in (f"{V1}/models/{SECRET}/aliases/{alias}", f"{UC}/models/{SECRET}/aliases/{alias}",
                     *mlflow):
            status, body = await w.call(who, "GET", path)
            assert_error(path, status, body, *((400, 404) if who == "admin" else (400, 403, 404)))
            assert "s3://alice" not in str(body), path
    for version in ("0", "-1", "1.0", "1%00", "%C2%B9", "%D9%A1", "99999999999", "1e0", "0x1",
                    "1'%20OR%20'1'='1"):
        for path in (f"{V1}/models/{SECRET}/versions/{version}",
                     f"{UC}/models/{SECRET}/versions/{version}",
                     f"{ML}/model-versions/get?name=secret&version={version}"):
            status, body = await w.call("admin", "GET", path)
            assert_error(path, status, body, 400, 404)
    # Raw traversal the client does not normalise away; no route serves files.
    for path in (f"{V1}/models/../../../etc/passwd", f"{UC}/models/../../../../etc/passwd",
                 f"{ML}/../../../etc/passwd", f"{V1}/../../../etc/passwd",
                 "/%2e%2e/%2e%2e/etc/passwd"):
        status, body = await w.call(who, "GET", path)
        assert 400 <= status < 500 and "root:" not in str(body), (path, status, body)
    assert await w.log_size() == before


async def test_hostile_points_in_time_are_4xx_or_the_head_and_hide_the_same(world: World) -> None:
    """`as_of`/`at` past the head is the head (200 to whoever may read); garbage is a 400."""
    w = world
    for point in ("-1", "99999999999999999999999", "1e10", "2026-13-01T00:00:00Z",
                  "0001-01-01T00:00%2B01:00", "9999-12-31T23:59:59%2B00:00", "%00", "0", "", "now",
                  "'%3B%20DROP%20TABLE%20events", "2026-01-01T00:00:00", "%EF%BC%91"):
        for path in (f"{V1}/models/{SECRET}?as_of={point}", f"{V1}/models?catalog_name=unity&as_of={point}",
                     f"{V1}/models/{SECRET}/versions/1?as_of={point}",
                     f"{V1}/models/{SECRET}/aliases/champion/history?at={point}",
                     f"{V1}/models/{SECRET}/timeline?as_of={point}"):
            status, body = await w.call("admin", "GET", path)
            if status != 200:
                assert_error(path, status, body, 400, 404)
            status, body = await w.call("mallory", "GET", path)
            if status == 200 and "/models?" in path:  # a listing: hers to see, without alice's
                assert "secret" not in str(body), path
            else:
                assert_error(path, status, body, 400, 403, 404)


async def test_hostile_names_in_bodies_are_refused(world: World) -> None:
    w = world
    before = await w.log_size()
    names = ["..", "../unity.default.x", "unity.default.x\t", "unity.default.x\x00",
             "unity.default.x\n", "unity/default/x", "unity.default.x/..", "unity.default..",
             "unity.default.x:y", "unity.default." + "x" * 300]
    for name in names:
        short = name.removeprefix("unity.default.")
        for method, path, body in (
                ("POST", f"{V1}/models", {"name": name}),
                ("POST", f"{UC}/models", {"catalog_name": "unity", "schema_name": "default",
                                          "name": short}),
                ("POST", f"{ML}/registered-models/create", {"name": short}),
                ("PATCH", f"{V1}/models/{SECRET}", {"new_name": name}),
                ("PATCH", f"{UC}/models/{SECRET}", {"new_name": short}),
                ("POST", f"{ML}/registered-models/rename", {"name": "secret", "new_name": short}),
                ("POST", f"{ML}/registered-models/alias", {"name": "secret", "alias": short,
                                                          "version": "1"}),
                ("POST", f"{ML}/registered-models/set-tag", {"name": short, "key": "k"})):
            status, err = await w.call("alice", method, path, json=body)
            assert_error(path, status, err, 400, 404)
    assert await w.log_size() == before
    assert (await w.call("alice", "GET", f"{V1}/models/{SECRET}"))[1]["full_name"] == SECRET


async def test_odd_names_mlflow_accepts_are_data_byte_for_byte(world: World) -> None:
    """Quotes, SQL, trailing dots and spaces, a leading hyphen, a bidi override: MLflow's server
    takes them as names, so the MLflow surface does too, and hands each back unchanged; Unity
    Catalog refuses all but the hyphen, as its identifiers do."""
    w = world
    for short in ("x.", "x ", "x';DROP TABLE events;--", 'x"', "x%", "x\\", "x\u202e", "-x",
                  "x.y", "x.y.z"):
        status, body = await w.call("alice", "POST", f"{ML}/registered-models/create",
                                    json={"name": short})
        assert status == 200 and body["registered_model"]["name"] == short, (short, body)
        status, body = await w.call("alice", "GET",
                                    f"{ML}/registered-models/get?name={quote(short, safe='')}")
        assert status == 200 and body["registered_model"]["name"] == short, (short, body)
        status, body = await w.call("alice", "GET",
                                    f"{V1}/models/{quote('unity.default.' + short, safe='')}")
        assert status == 200 and body["name"] == short and body["schema_name"] == "default"
        status, err = await w.call("alice", "POST", f"{UC}/models", json={
            "catalog_name": "unity", "schema_name": "default", "name": short + "2"})
        if short == "-x":  # UC's identifiers allow a leading hyphen ([a-zA-Z0-9_@-]+)
            assert status == 200 and err["name"] == "-x2", err
        else:
            assert_error(f"{UC}/models", status, err, 400)
    # Dotted names stay one level: nothing of theirs is another model's, nor under one.
    status, body = await w.call("alice", "GET", f"{ML}/registered-models/get?name=x")
    assert_error(f"{ML}/registered-models/get", status, body, 404)


TAG_KEY = "k'\"; --%_\\"
TAG_VALUE = "' OR '1'='1"


async def test_sql_metacharacters_are_data_in_tags_and_filters(world: World) -> None:
    w = world
    for path, body in ((f"{ML}/registered-models/set-tag", {"name": "secret", "key": TAG_KEY,
                                                              "value": TAG_VALUE}),
                       (f"{ML}/model-versions/set-tag", {"name": "secret", "version": "1",
                                                         "key": TAG_KEY, "value": TAG_VALUE})):
        assert (await w.call("alice", "POST", path, json=body))[0] == 200
    for path, tags in ((f"{V1}/models/{SECRET}", "tags"), (f"{V1}/models/{SECRET}/versions/1", "tags")):
        assert (await w.call("alice", "GET", path))[1][tags][TAG_KEY] == TAG_VALUE
    _, got = await w.call("alice", "GET", f"{ML}/registered-models/get?name=secret")
    assert {"key": TAG_KEY, "value": TAG_VALUE} in got["registered_model"]["tags"]

    def search(kind: str, text: str) -> str:
        return f"{ML}/{kind}/search?filter={quote(text, safe='')}"

    found_by_admin = {  # filter -> whether alice's model is found
        "name = 'secret'": True, "name = \"secret\"": True, "name LIKE 'sec_et'": True,
        "name LIKE '%'": True, "name ILIKE 'SECRET'": True, "name LIKE 'sec%'": True,
        "name = 'secret'' OR ''1''=''1'": False, "name = 'x'' OR name LIKE ''%'": False,
        "name LIKE '%'' --'": False, "name IN ('x'') OR (''1''=''1')": False,
        "tag.team = 'a'' OR ''1''=''1'": False, "tag.team = 'a'": True,
        f"tag.`{TAG_KEY}` = '{TAG_VALUE.replace(chr(39), chr(39) * 2)}'": True,
        f"tag.`{TAG_KEY}` LIKE '%OR%'": True, "tag.`k'` = '1'": False,
        "name = '%'": False, "name = '_'": False,
    }
    for kind in ("registered-models", "model-versions"):
        for text, found in found_by_admin.items():
            if kind == "model-versions" and text.startswith("tag."):
                continue  # model tags; the version's own tag is below
            status, body = await w.call("admin", "GET", search(kind, text))
            assert status == 200, (text, body)
            assert ("s3://alice" in str(body) or "'secret'" in str(body)) is found, (kind, text, body)
            status, body = await w.call("mallory", "GET", search(kind, text))
            assert status == 200 and "secret" not in str(body), (kind, text, body)
    status, body = await w.call("admin", "GET", search(
        "model-versions", f"tag.`{TAG_KEY}` = '{TAG_VALUE.replace(chr(39), chr(39) * 2)}'"))
    assert [v["name"] for v in body["model_versions"]] == ["secret"]
    before = await w.log_size()
    for text in ("name = 'x'; DROP TABLE events; --", "name = 'x' OR 1=1", "name = 'x' -- ",
                 "name = 'x' UNION SELECT * FROM auth_tokens", "1=1", "name = ", "' OR '1'='1",
                 "name = 'x\x00'", "version_number = '1 OR 1=1'", "version_number > 'a'",
                 "name LIKE 'x' ESCAPE '!'", "tag.`x` > 'a'", "run_id = 1; SELECT pg_sleep(5)",
                 "name = 'unterminated", "name = (SELECT 1)", "`name`` = 'x'", "name = 'x' AND",
                 "pg_sleep(5)", "name = 'x' /* comment */"):
        for kind in ("registered-models", "model-versions"):
            path = search(kind, text)
            status, body = await w.call("admin", "GET", path)
            assert_error(path, status, body, 400)
    for path in (f"{ML}/registered-models/search?order_by=name%3B%20DROP%20TABLE%20events",
                 f"{ML}/registered-models/search?order_by=name%20ASC%2C%20(SELECT%201)",
                 f"{ML}/model-versions/search?order_by=version_number%20DESC%20--",
                 f"{ML}/model-versions/search?order_by=pg_sleep(5)",
                 f"{ML}/registered-models/search?max_results=1%3B%20DROP%20TABLE%20events",
                 f"{ML}/registered-models/search?max_results=-1"):
        status, body = await w.call("admin", "GET", path)
        assert_error(path, status, body, 400)
    # Native and audit filters are data too.
    for path, found in ((f"{V1}/models?catalog_name=unity&name_pattern=%25'%20OR%20'1'='1", False),
                        (f"{V1}/models?catalog_name=unity'%20OR%20'1'='1", False),
                        (f"{V1}/models?catalog_name=unity&name_pattern=sec_et", True),
                        (f"{V1}/models?catalog_name=unity&name_pattern=%25", True),
                        (f"{V1}/audit/events?actor=alice'%20OR%20'1'='1", False),
                        (f"{V1}/audit/events?object=unity.default.secret'--", False),
                        (f"{V1}/audit/events?actor=alice", True)):
        status, body = await w.call("admin", "GET", path)
        assert status in (200, 400), (path, body)
        assert (status == 200 and "secret" in str(body)) is found, (path, body)
        status, body = await w.call("mallory", "GET", path)
        assert status in (200, 400, 403) and "s3://alice" not in str(body), (path, body)
    # A tag key in a path, with every metacharacter, is stored as given.
    key = "k'\"; --%_\\/.."
    status, model = await w.call("alice", "PUT", f"{V1}/models/{SECRET}/tags/{quote(key, safe='')}",
                                 json={"value": "x"})
    assert status == 200 and model["tags"][key] == "x", model
    assert await w.log_size() == before + 1
    assert (await w.call("admin", "GET", f"{V1}/audit/verify"))[1]["ok"] is True


def token(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


FORGED_TOKENS = [
    "garbage", "%00", "AAAA", "====", "!!!", "eyJ", token({}), token(None), token(True), token(1.5),
    token([]), token([None, None]), token([1, 2, 3, 4, 5, 6]), token([[1], [2]]), token(["\ud800", "x"]),
    token("\ud800"), token("x\x00"), token(-1), token(2**63), token([2**63, 1]),
    token(["x", "y"])[:-3] + "AAA", base64.b64encode(b"\xff\xfe\x00").decode(),
    token(["2026-13-45T99:00:00+00:00", "a", 1]), token([{"$gt": ""}, "a"]),
]


async def test_forged_page_tokens_are_400s_and_never_widen_a_listing(world: World) -> None:
    w = world
    pages = [f"{V1}/models?catalog_name=unity", f"{V1}/catalogs", f"{V1}/schemas?catalog_name=unity",
             f"{V1}/models/{SECRET}/versions", f"{V1}/models/{SECRET}/history",
             f"{V1}/models/{SECRET}/timeline", f"{V1}/audit/events",
             f"{UC}/models?catalog_name=unity&schema_name=default", f"{UC}/catalogs",
             f"{UC}/schemas?catalog_name=unity", f"{UC}/models/{SECRET}/versions",
             f"{ML}/registered-models/search", f"{ML}/model-versions/search",
             f"{ML}/registered-models/search?order_by=last_updated_timestamp%20DESC",
             f"{ML}/model-versions/search?order_by=creation_timestamp"]
    for path in pages:
        for forged in FORGED_TOKENS:
            url = f"{path}{'&' if '?' in path else '?'}page_token={forged}"
            status, body = await w.call("admin", "GET", url)
            assert_error(url, status, body, 400)
    # A well-formed token from before everything still lists only what the caller may read.
    for path, forged in ((f"{V1}/models?catalog_name=unity", token("")),
                         (f"{UC}/models?catalog_name=unity&schema_name=default", token("")),
                         (f"{ML}/registered-models/search", token([""])),
                         (f"{ML}/registered-models/search", token(["' OR '1'='1"])),
                         (f"{ML}/model-versions/search",
                          token(["9999-12-31T00:00:00+00:00", "", 0]))):
        url = f"{path}{'&' if '?' in path else '?'}page_token={forged}"
        status, body = await w.call("mallory", "GET", url)
        assert status == 200 and "secret" not in str(body), (url, body)
        status, body = await w.call("admin", "GET", url)
        assert status == 200 and "secret" in str(body), (url, body)


async def test_timestamp_ordered_searches_page_through(world: World) -> None:
    """A page token of a search ordered by a time carries it as text; it pages on (it was a 500
    on the first page and a 400 on the second)."""
    w = world
    for n in ("b1", "b2", "b3"):
        assert (await w.call("admin", "POST", f"{ML}/registered-models/create", json={"name": n}))[0] == 200
    for order in ("last_updated_timestamp DESC", "creation_timestamp", "timestamp ASC"):
        seen, page_token = [], None
        for _ in range(6):
            params = {"max_results": "1", "order_by": order}
            params |= {"page_token": page_token} if page_token else {}
            query = "&".join(f"{k}={v.replace(' ', '%20')}" for k, v in params.items())
            status, body = await w.call("admin", "GET", f"{ML}/registered-models/search?{query}")
            assert status == 200, (order, body)
            seen += [m["name"] for m in body["registered_models"]]
            if not (page_token := body.get("next_page_token")):
                break
        expected = ["secret", "b1", "b2", "b3"]
        assert seen == (expected[::-1] if "DESC" in order else expected), order


BODIES = {
    "20 MB": b'{"name": "' + b"a" * (20 << 20) + b'"}',
    "100k [": b"[" * 100_000, "100k {": b'{"a":' * 100_000, "deep inside": b'{"name": ' + b"[" * 900
    + b"]" * 900 + b"}", "array": b"[]", "string": b'"unity.default.x"', "number": b"1",
    "null": b"null", "true": b"true", "bad utf-8": b'{"name": "\xff\xfe"}',
    "overlong utf-8": b'{"name": "unity.default.\xc0\xae"}', "NUL escape": b'{"name": "x\\u0000"}',
    "lone surrogate": b'{"name": "\\ud800"}', "huge number": b'{"version": 1e999}',
    "huge int": b'{"version": ' + b"9" * 5000 + b"}", "truncated": b'{"name": "x',
    "trailing garbage": b'{"name": "unity.default.x"} {}', "NaN": b'{"version": NaN}',
}
CONTENT_TYPES = {"form": ("application/x-www-form-urlencoded", b"name=unity.default.x"),
                 "multipart": ("multipart/form-data; boundary=b",
                               b'--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b--\r\n'),
                 "xml": ("application/xml", b"<name>unity.default.x</name>"),
                 "binary": ("application/octet-stream", bytes(range(256)))}


async def test_oversized_nested_and_malformed_bodies(world: World) -> None:
    w = world
    head = (await w.call("admin", "GET", f"{V1}/audit/verify"))[1]
    before = await w.log_size()
    writes = [("POST", f"{V1}/models"), ("PUT", f"{V1}/models/{SECRET}/aliases/champion"),
              ("POST", f"{UC}/models"), ("PUT", f"{UC}/models/{SECRET}/aliases/champion"),
              ("PATCH", f"{UC}/permissions/registered_model/{SECRET}"),
              ("POST", f"{ML}/registered-models/create"), ("POST", f"{ML}/registered-models/alias"),
              ("POST", f"{ML}/model-versions/create")]
    for method, path in writes:
        for name, data in BODIES.items():
            status, body = await w.call("admin", method, path, data=data,
                                        headers={"Content-Type": "application/json"})
            assert_error(path, status, body, 413 if name == "20 MB" else 400)
        for content_type, data in CONTENT_TYPES.values():
            status, body = await w.call("admin", method, path, data=data,
                                        headers={"Content-Type": content_type})
            assert_error(path, status, body, 400)
    assert (await w.call(None, "GET", "/healthz"))[0] == 200
    assert (await w.call("admin", "GET", f"{V1}/models/{SECRET}"))[0] == 200
    assert await w.log_size() == before
    after = (await w.call("admin", "GET", f"{V1}/audit/verify"))[1]
    assert after["ok"] and after["head_hash"] == head["head_hash"]
    assert await w.server.app[POOL].fetchval("SELECT count(*) FROM registered_models") == 1


async def send_raw(w: World, method: str, path: str, token: str, header: bytes, body: bytes
                   ) -> tuple[int, dict[str, str], Any]:
    """One HTTP/1.1 request written byte for byte (clients refuse to send undecodable headers)."""
    host, port = w.server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
                 f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                 "Connection: close\r\n".encode() + header + b"\r\n\r\n" + body)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, text = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(text)


async def test_undecodable_and_oversized_request_headers(world: World) -> None:
    """Header bytes that are not UTF-8 reach the handler as lone surrogates: kept as the request id
    or the client in an event's metadata, they failed the whole write batch (a 500 here, a 503 for
    everyone's next check while the writer reloaded) and the error's own log line."""
    w = world
    before = await w.log_size()
    writes = [("PUT", f"{V1}/models/{SECRET}/tags/k", b'{"value": "v"}'),
              ("PATCH", f"{UC}/models/{SECRET}", b'{"comment": "c"}'),
              ("POST", f"{ML}/registered-models/set-tag", b'{"name": "secret", "key": "k", "value": "v"}')]
    for method, path, body in writes:
        for header in (b"X-Request-Id: \xff\xfe", b"User-Agent: \xc0\xaf\xed\xa0\x80",
                       b"X-Anything: \x80"):
            status, headers, err = await send_raw(w, method, path, w.tokens["alice"], header, body)
            assert_error(path, status, err, 400)
            assert _REQUEST_ID.fullmatch(headers["X-Request-Id"])
            assert (await w.call("reader", "GET", f"{V1}/models/{SECRET}"))[0] == 200
    assert await w.log_size() == before
    # A request id that is not a short plain token is replaced, not kept in the log.
    for sent in ("x" * 200, "a b", "<script>", "id\u00e9"):
        status, _, headers = await w.exchange("alice", "PUT", f"{V1}/models/{SECRET}/tags/k",
                                              json={"value": "v"}, headers={"X-Request-Id": sent})
        assert status == 200 and headers["X-Request-Id"] != sent
    status, _, headers = await w.exchange("alice", "PUT", f"{V1}/models/{SECRET}/tags/k",
                                          json={"value": "w"}, headers={"X-Request-Id": "req-1.2:3"})
    assert status == 200 and headers["X-Request-Id"] == "req-1.2:3"
    kept = await w.server.app[POOL].fetch("SELECT metadata->>'request_id' AS id FROM events "
                                          "WHERE position > $1", before)
    assert [r["id"] for r in kept][-1] == "req-1.2:3" and all(len(r["id"]) <= 128 for r in kept)


async def test_errors_echo_only_the_start_of_a_huge_bad_value(world: World) -> None:
    """A 300,000-character name that breaks the rules is refused on every surface, and the error
    repeats its start only: the answer stays small whatever was sent."""
    huge = "bad/" * 75_000
    for path, body in ((f"{V1}/models", {"name": f"unity.default.{huge}"}),
                       (f"{ML}/registered-models/create", {"name": huge}),
                       (f"{UC}/models", {"name": huge, "catalog_name": "unity",
                                         "schema_name": "default"}),
                       (f"{V1}/models", {"name": "unity.default.m", huge: 1})):
        status, answer = await world.call("admin", "POST", path, json=body)
        assert_error(path, status, answer, 400)
        assert len(json.dumps(answer)) < 4_000, (path, len(json.dumps(answer)))


@pytest.mark.parametrize("request_line", [
    b"GET /" + b"a" * 20_000 + b" HTTP/1.1",  # past aiohttp's line limit
    b"G\x01T /api/modelog/v1/models HTTP/1.1",  # a method no HTTP has
    b"GET /api/modelog/v1/models HTTP/9." + b"9" * 5_000,
])
async def test_requests_aiohttp_cannot_parse_get_a_short_json_error(world: World,
                                                                    request_line: bytes) -> None:
    host, port = world.server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(request_line + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, text = answer.partition(b"\r\n\r\n")
    assert head.split()[1] == b"400", answer[:300]
    assert b"Content-Type: application/json" in head, head
    body = json.loads(text)
    assert body["error_code"] == "INVALID_ARGUMENT" and len(text) < 400, body
    assert body["message"].startswith("the request could not be read: ")


async def test_a_body_trickled_in_too_slowly_is_a_408(db_url: str, tmp_path) -> None:
    """Slow headers aiohttp times out itself; a body sent a few bytes at a time would hold its
    connection for ever: past the time allowed it is a 408, and the connection is to close
    (aiohttp lingers a while for the rest of the body before it does)."""
    async with serving(db_url, tmp_path, body_seconds=0.5) as server:
        host, port = server.url.removeprefix("http://").split(":")
        for path in (f"{V1}/models", f"{ML}/registered-models/create"):
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         "Content-Length: 100\r\n\r\n{".encode())
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            length = int(re.search(rb"Content-Length: (\d+)", head)[1])
            text = await asyncio.wait_for(reader.readexactly(length), 10)
            writer.close()
            assert head.split()[1] == b"408" and b"Connection: close" in head, head
            assert json.loads(text)["error_code"] == "REQUEST_TIMEOUT"
