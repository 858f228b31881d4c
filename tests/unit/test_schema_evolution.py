"""Event schema evolution, pure: an event stored in a version no upcaster reads is refused with a
clear message (the `alias_set_v2` fixture, in tests/conftest.py, makes AliasSet's current shape
version 2)."""

import pytest

from registry.domain import events as ev


def test_an_unknown_old_version_without_an_upcaster_is_refused_clearly(alias_set_v2: None,
                                                                       monkeypatch) -> None:
    monkeypatch.delitem(ev.UPCASTERS, ("AliasSet", 1))
    with pytest.raises(LookupError, match="no upcaster for AliasSet schema version 1"):
        ev.parse_event("AliasSet", 1, {"name": "x", "version_number": "1"})
