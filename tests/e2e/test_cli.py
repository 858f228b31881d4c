"""The `modelog` command, run as a user runs it: a subprocess."""

import asyncio
import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from registry.eventstore.database import migration_files
from tests.support.cli import MODELOG, free_port, http, run, serve_embedded, stop, wait_ready
from tests.support.pg import with_database


def test_version() -> None:
    for asked in ("version", "--version"):
        out = run(asked)
        assert out.returncode == 0 and out.stdout.startswith("modelog 0."), out.stderr


async def test_migrate_is_idempotent(pg_url: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(pg_url)
    await admin.execute("DROP DATABASE IF EXISTS modelog_cli_migrate")
    await admin.execute("CREATE DATABASE modelog_cli_migrate")
    await admin.close()
    url = with_database(pg_url, "modelog_cli_migrate")
    first = await asyncio.to_thread(run, "migrate", "--database-url", url)
    assert first.returncode == 0, first.stderr
    files = [p.name for _, p in migration_files()]
    assert len(files) >= 3
    assert f"applied {len(files)} migration(s): {', '.join(files)}" in first.stdout
    again = await asyncio.to_thread(run, "migrate", env={"MODELOG_DATABASE_URL": url})
    assert again.returncode == 0 and "applied 0 migration(s)" in again.stdout
    conn = await asyncpg.connect(url)
    assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == len(files)
    await conn.close()
    admin = await asyncpg.connect(pg_url)
    await admin.execute("DROP DATABASE modelog_cli_migrate WITH (FORCE)")
    await admin.close()


def test_serve_against_a_database_url_logs_json_and_stops_cleanly(db_url: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([*MODELOG, "serve", "--port", str(port), "--database-url", db_url,
                             "--log-format", "json"], stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(url, proc)
        status, model = http("POST", f"{url}/api/modelog/v1/models",
                             {"name": "unity.default.cli"})
        assert status == 201 and model["full_name"] == "unity.default.cli"
        status, err = http("POST", f"{url}/api/modelog/v1/models", {"name": "unity.default.cli"})
        assert status == 409 and err["error_code"] == "ALREADY_EXISTS"
    finally:
        code, log = stop(proc)
    assert code == 0, log
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    requests = [x for x in lines if x.get("event") == "request"]
    created = [x for x in requests if x.get("command") == "CreateModel"]
    assert [x["status"] for x in created] == [201, 409]
    for x in created:
        assert x["actor"] == "admin" and x["request_id"] and x["latency_ms"] >= 0
        assert x["route"] == "/api/modelog/v1/models" and x["method"] == "POST"


def test_a_taken_port_is_one_line_and_its_own_exit_code(db_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run([*MODELOG, "serve", "--port", str(port), "--database-url", db_url],
                             capture_output=True, text=True, timeout=60)
    assert out.returncode == 4, out.stderr
    assert out.stderr.strip().splitlines()[-1] == \
        f"modelog serve: cannot listen on 127.0.0.1:{port}: Address already in use"
    assert "Traceback" not in out.stderr and "XDG_RUNTIME_DIR" not in out.stderr


def test_commands_but_serve_never_make_a_registry_where_there_is_none(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("MODELOG_DATABASE_URL", "MODELOG_DATA_DIR")}
    for args in (["projections", "status"], ["audit", "verify"], ["token", "list"], ["migrate"]):
        out = subprocess.run([*MODELOG, *args], capture_output=True, text=True, timeout=60,
                             cwd=tmp_path, env=env)
        assert out.returncode == 6, (args, out.stderr)
        assert out.stderr.strip() == (
            f"modelog {args[0]}: no registry in {tmp_path / '.modelog'} (its database would be "
            "pgdata/ there): pass the --data-dir `modelog serve` uses, or --database-url")
    assert list(tmp_path.iterdir()) == []


async def test_a_database_migrated_by_a_newer_modelog_is_refused(db_url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(db_url)
    await conn.execute("INSERT INTO schema_migrations (version, name) "
                       "VALUES (9999, '9999_from_the_future.sql')")
    await conn.close()
    for args in (["migrate"], ["serve", "--port", str(free_port())]):
        out = await asyncio.to_thread(subprocess.run, [*MODELOG, *args, "--database-url", db_url],
                                      capture_output=True, text=True, timeout=60)
        assert out.returncode == 5, out.stderr
        assert out.stderr.strip().splitlines()[-1] == (
            f"modelog {args[0]}: the database was migrated by a newer modelog "
            "(9999_from_the_future.sql unknown to this one): run that version or a later one")
        assert "Traceback" not in out.stderr


def test_serve_with_no_url_starts_and_stops_an_embedded_postgres(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)  # the embedded server runs as its own user when we are root
    data = tmp_path / "data"
    proc, url = serve_embedded(data)
    try:
        wait_ready(url, proc)
        assert (data / "pgdata" / "PG_VERSION").exists()
        assert (data / "pgdata" / "postmaster.pid").exists()
        status, schema = http("GET", f"{url}/api/modelog/v1/schemas/unity.default")
        assert status == 200 and schema["owner"] == "admin"
        assert http("POST", f"{url}/api/modelog/v1/models", {"name": "unity.default.e"})[0] == 201
    finally:
        code, log = stop(proc)
    assert code == 0, log
    assert not (data / "pgdata" / "postmaster.pid").exists(), "embedded PostgreSQL still running"

    # A second start finds the data where it was left.
    proc, url = serve_embedded(data)
    try:
        wait_ready(url, proc)
        status, model = http("GET", f"{url}/api/modelog/v1/models/unity.default.e")
        assert status == 200 and model["full_name"] == "unity.default.e"
    finally:
        code, log = stop(proc)
    assert code == 0, log


@pytest.mark.parametrize("check", [True, False])
async def test_projections_rebuild_command_while_serving(live, db_url: str, check: bool) -> None:
    for n in range(3):
        status, _ = await live.call("POST", "/api/modelog/v1/models",
                                    json={"name": f"unity.default.r{n}"})
        assert status == 201
    args = ["projections", "rebuild", "--database-url", db_url] + (["--check"] if check else [])
    out = await asyncio.to_thread(run, *args)
    assert out.returncode == 0, out.stderr
    assert "replayed 5 events" in out.stdout  # bootstrap catalog and schema, three models
    assert ("equal a replay of the log" if check else "swapped in") in out.stdout
    assert "replaying [" in out.stderr and "5/5" in out.stderr  # the progress bar
    # The server keeps serving reads and writes from the (possibly swapped) tables.
    status, page = await live.call("GET", "/api/modelog/v1/models",
                                   params={"catalog_name": "unity"})
    assert status == 200 and len(page["registered_models"]) == 3
    status, _ = await live.call("POST", "/api/modelog/v1/models", json={"name": "unity.default.z"})
    assert status == 201
