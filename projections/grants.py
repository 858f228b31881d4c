"""Read model `grants`: who holds which privilege on which securable, now."""

from registry.domain import events as ev

from .runner import Projection, delete, insert

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
