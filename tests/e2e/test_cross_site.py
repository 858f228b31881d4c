"""A web page of another site cannot write through the user's browser, even to the loopback
quickstart where every request is the local admin; API clients, which send no Origin, and the
server's own pages are unaffected."""

import pytest

from tests.support.server import V1, call, serving


@pytest.mark.parametrize(("headers", "refused"), [
    ({}, False),  # the MLflow client, curl
    ({"Origin": "http://evil.example"}, True),
    ({"Origin": "null"}, True),  # a sandboxed frame or a file:// page
    ({"Origin": "http://127.0.0.1:1"}, True),  # another port is another origin
    ({"Sec-Fetch-Site": "cross-site"}, True),
    ({"Sec-Fetch-Site": "same-site"}, True),
    ({"Sec-Fetch-Site": "same-site", "Origin": "{url}"}, True),  # Fetch Metadata decides
    ({"Sec-Fetch-Site": "same-origin"}, False),
    ({"Origin": "{url}"}, False),
    ({"Origin": "{url}", "Sec-Fetch-Site": "same-origin"}, False),
])
async def test_cross_site_writes_are_refused(db_url: str, tmp_path, headers: dict[str, str],
                                             refused: bool) -> None:
    async with serving(db_url, tmp_path) as server:  # no auth: the local admin
        sent = {k: v.format(url=server.url) for k, v in headers.items()}
        _, before, _ = await call(server, "GET", f"{V1}/audit/verify")
        status, body, _ = await call(server, "POST", f"{V1}/catalogs", headers=sent,
                                     json={"name": "planted"})
        _, after, _ = await call(server, "GET", f"{V1}/audit/verify")
        if refused:
            assert status == 403 and body["error_code"] == "PERMISSION_DENIED", body
            assert after["head_position"] == before["head_position"]
        else:
            assert status == 201, body
        # Reads are answered whatever the origin: a foreign page cannot see the answer anyway.
        assert (await call(server, "GET", f"{V1}/catalogs", headers=sent))[0] == 200


async def test_mlflow_surface_answers_in_its_format(db_url: str, tmp_path) -> None:
    async with serving(db_url, tmp_path) as server:
        status, body, _ = await call(server, "POST", "/api/2.0/mlflow/registered-models/create",
                                     headers={"Origin": "http://evil.example"},
                                     json={"name": "planted"})
        assert status == 403 and body["error_code"] == "PERMISSION_DENIED"
        assert set(body) <= {"error_code", "message", "sqlstate", "error_class"}
