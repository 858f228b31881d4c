"""Catalogs' and schemas' properties: what an update changes, and events from before them."""

from datetime import UTC, datetime
from uuid import uuid4

from registry.domain import catalogs
from registry.domain import commands as c
from registry.domain.events import CatalogUpdated, parse_event


def test_events_written_before_properties_read_as_having_none() -> None:
    created = parse_event("CatalogCreated", 1, {"catalog_id": "7d0d5a4e-58f3-4d1c-9a57-0a1f1b2c3d4e",
                                                "name": "c", "comment": None, "owner": "a"})
    assert created.properties == {}
    updated = parse_event("SchemaUpdated", 1, {"catalog_name": "c", "name": "s", "comment": "x"})
    assert (updated.comment, updated.properties) == ("x", {})


def test_an_update_changes_only_the_fields_it_was_given() -> None:
    at = datetime.now(UTC)
    state = catalogs.Catalog(uuid4(), "c", "doc", "a", at, "a", at, "a", {"team": "risk"})
    [event] = catalogs.decide(c.UpdateCatalog(name="c", properties={"team": "ml"}), state, 0, "a")
    assert event == CatalogUpdated(name="c", comment="doc", properties={"team": "ml"})
    [event] = catalogs.decide(c.UpdateCatalog(name="c", comment=None), state, 0, "a")
    assert event == CatalogUpdated(name="c", comment=None, properties={"team": "risk"})
    assert catalogs.decide(c.UpdateCatalog(name="c", comment="doc"), state, 0, "a") == []
