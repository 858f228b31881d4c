"""The native API's JSON shapes of catalogs, schemas, models, versions and events (also what
`modelog replay` prints)."""

from typing import Any

from registry.domain.catalogs import Catalog
from registry.domain.models import Model, ModelVersion
from registry.domain.schemas import Schema
from registry.eventstore import RecordedEvent, iso_time


def _audit(o: Any) -> dict[str, Any]:
    return {"created_at": iso_time(o.created_at), "created_by": o.created_by,
            "updated_at": iso_time(o.updated_at), "updated_by": o.updated_by}


def catalog_json(cat: Catalog) -> dict[str, Any]:
    return {"name": cat.name, "id": str(cat.id), "comment": cat.comment, "owner": cat.owner,
            "properties": dict(cat.properties), **_audit(cat)}


def schema_json(s: Schema) -> dict[str, Any]:
    return {"name": s.name, "catalog_name": s.catalog_name, "full_name": s.full_name,
            "id": str(s.id), "comment": s.comment, "owner": s.owner,
            "properties": dict(s.properties), **_audit(s)}


def model_json(m: Model) -> dict[str, Any]:
    return {
        "id": str(m.id), "full_name": m.full_name, "catalog_name": m.catalog_name,
        "schema_name": m.schema_name, "name": m.name, "description": m.description,
        "owner": m.owner, "tags": dict(m.tags),
        "aliases": [{"alias": a, "version": v} for a, v in sorted(m.aliases.items())],
        **_audit(m),
    }


def version_json(m: Model, mv: ModelVersion) -> dict[str, Any]:
    return {
        "model_name": m.full_name, "model_id": str(m.id), "version": mv.version,
        "source": mv.source, "run_id": mv.run_id, "run_link": mv.run_link,
        "logged_model_id": mv.logged_model_id, "description": mv.description,
        "status": mv.status, "status_message": mv.status_message,
        "storage_location": mv.storage_location, "stage": mv.stage, "tags": dict(mv.tags),
        "transition_requests": [
            {"stage": r.stage, "comment": r.comment, "requested_by": r.requested_by,
             "requested_at": iso_time(r.requested_at)} for r in mv.requests.values()],
        "aliases": m.aliases_of(mv.version), **_audit(mv),
    }


def event_json(e: RecordedEvent) -> dict[str, Any]:
    return {"position": e.position, "stream_id": e.stream_id, "stream_version": e.stream_version,
            "type": e.type, "schema_version": e.schema_version, "data": e.data,
            "metadata": e.metadata, "recorded_at": iso_time(e.recorded_at), "hash": e.hash.hex()}
