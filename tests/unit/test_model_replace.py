"""models.replace, the fast dataclasses.replace the model fold uses, gives what it gives."""

import dataclasses
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from registry.domain.models import Model, replace


def test_replace_is_dataclasses_replace() -> None:
    now = datetime.now(UTC)
    m = Model(id=uuid4(), catalog_name="unity", schema_name="default", name="m", description=None,
              owner="a", created_at=now, created_by="a", updated_at=now, updated_by="a")
    changed = replace(m, updated_by="b", next_version=3)
    assert changed == dataclasses.replace(m, updated_by="b", next_version=3)
    assert replace(m) == m and replace(m) is not m
    with pytest.raises(KeyError):
        replace(m, no_such_field=1)
