"""Read model `grants`: who holds which privilege on which securable, now."""

from projections.runner import Projection, delete, insert
from registry.domain import events as ev

grants = Projection("grants", ("grants",))

_KEY = {"stream_id": "text", "principal": "text", "privilege": "text"}
GRANT = insert("grants", _KEY)
REVOKE = delete("grants", _KEY)
FORGET = delete("grants", {"stream_id": "text"})  # the object is gone, and its grants with it


@grants.on(ev.PrivilegesChanged)
def _changed(r, e: ev.PrivilegesChanged):
    for c in e.changes:
        for privilege in c.remove:
            yield REVOKE(r.stream_id, c.principal, privilege)
        for privilege in c.add:
            yield GRANT(r.stream_id, c.principal, privilege)


@grants.on(ev.CatalogDeleted, ev.SchemaDeleted, ev.ModelDeleted)
def _deleted(r, e: ev.Event):
    yield FORGET(r.stream_id)
