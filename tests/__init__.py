import pytest

# The shared helpers (tests/support/) assert too: pytest explains their failures as it does a test's.
pytest.register_assert_rewrite("tests.support")
