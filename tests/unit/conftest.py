"""Unit tests are pure: no database, no server, no subprocess, no network. The session's
PostgreSQL starts lazily, at the first test needing it, so one unit test asking for it would slow
the whole fast loop: such a test fails here instead (it belongs in tests/integration)."""

import pytest

DATABASE = {"pg_url", "template_db", "db_url", "pool", "service"}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    needs = DATABASE.intersection(getattr(item, "fixturenames", ()))
    if needs:
        pytest.fail(f"a unit test may not use {', '.join(sorted(needs))}: "
                    "it belongs in tests/integration or tests/e2e", pytrace=False)
