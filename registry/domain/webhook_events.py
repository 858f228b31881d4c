"""Which webhook event an event of the log is, and the payload a receiver gets for it. Pure.

MLflow's webhook names where MLflow has the event (its payloads' shapes too: version numbers as
strings, `name` the registered model's), Modelog's own names for the rest. Webhook events
themselves are not delivered.
"""

from typing import Any

from registry.domain import events as ev

MLFLOW_NAMES: dict[str, str] = {
    ev.ModelCreated.type_name(): "REGISTERED_MODEL_CREATED",
    ev.VersionRegistered.type_name(): "MODEL_VERSION_CREATED",
    ev.VersionTagSet.type_name(): "MODEL_VERSION_TAG_SET",
    ev.VersionTagDeleted.type_name(): "MODEL_VERSION_TAG_DELETED",
    ev.AliasSet.type_name(): "MODEL_VERSION_ALIAS_CREATED",
    ev.AliasDeleted.type_name(): "MODEL_VERSION_ALIAS_DELETED",
}
MODELOG_NAMES: dict[str, str] = {
    ev.ModelRenamed.type_name(): "REGISTERED_MODEL_RENAMED",
    ev.ModelDescriptionUpdated.type_name(): "REGISTERED_MODEL_UPDATED",
    ev.ModelTagSet.type_name(): "REGISTERED_MODEL_TAG_SET",
    ev.ModelTagDeleted.type_name(): "REGISTERED_MODEL_TAG_DELETED",
    ev.ModelDeleted.type_name(): "REGISTERED_MODEL_DELETED",
    ev.VersionReady.type_name(): "MODEL_VERSION_READY",
    ev.VersionFailed.type_name(): "MODEL_VERSION_FAILED",
    ev.VersionDescriptionUpdated.type_name(): "MODEL_VERSION_UPDATED",
    ev.VersionDeleted.type_name(): "MODEL_VERSION_DELETED",
    ev.VersionStageTransitioned.type_name(): "MODEL_VERSION_TRANSITIONED_STAGE",
    ev.StageTransitionRequested.type_name(): "TRANSITION_REQUEST_CREATED",
    ev.StageTransitionApproved.type_name(): "TRANSITION_REQUEST_APPROVED",
    ev.StageTransitionRejected.type_name(): "TRANSITION_REQUEST_REJECTED",
    ev.StageTransitionCancelled.type_name(): "TRANSITION_REQUEST_CANCELLED",
    ev.CatalogCreated.type_name(): "CATALOG_CREATED",
    ev.CatalogUpdated.type_name(): "CATALOG_UPDATED",
    ev.CatalogRenamed.type_name(): "CATALOG_RENAMED",
    ev.CatalogDeleted.type_name(): "CATALOG_DELETED",
    ev.SchemaCreated.type_name(): "SCHEMA_CREATED",
    ev.SchemaUpdated.type_name(): "SCHEMA_UPDATED",
    ev.SchemaRenamed.type_name(): "SCHEMA_RENAMED",
    ev.SchemaDeleted.type_name(): "SCHEMA_DELETED",
    ev.PrincipalCreated.type_name(): "PRINCIPAL_CREATED",
    ev.PrincipalAdminSet.type_name(): "PRINCIPAL_UPDATED",
    ev.TokenIssued.type_name(): "TOKEN_ISSUED",
    ev.TokenRevoked.type_name(): "TOKEN_REVOKED",
    ev.PrivilegesChanged.type_name(): "PERMISSIONS_UPDATED",
    ev.OwnerChanged.type_name(): "OWNER_CHANGED",
}
WEBHOOK_NAMES: dict[str, str] = {**MLFLOW_NAMES, **MODELOG_NAMES}  # event type -> webhook name
WEBHOOK_EVENTS: frozenset[str] = frozenset(WEBHOOK_NAMES.values())
PING = "PING"


def webhook_event(event_type: str) -> str | None:
    return WEBHOOK_NAMES.get(event_type)


def _mlflow_data(event_type: str, name: str | None, data: dict[str, Any]) -> dict[str, Any]:
    version = str(data["version"]) if "version" in data else None
    match event_type:
        case "ModelCreated":
            return {"name": name, "tags": data.get("tags", {}), "description": data.get("description")}
        case "VersionRegistered":
            return {"name": name, "version": version, "source": data["source"],
                    "run_id": data.get("run_id"), "tags": data.get("tags", {}),
                    "description": data.get("description")}
        case "VersionTagSet":
            return {"name": name, "version": version, "key": data["key"], "value": data["value"]}
        case "VersionTagDeleted":
            return {"name": name, "version": version, "key": data["key"]}
        case "AliasSet":
            return {"name": name, "alias": data["alias"], "version": version}
        case "AliasDeleted":
            return {"name": name, "alias": data["alias"]}
    return {"name": name, **data}


def payload(*, event_type: str, name: str | None, data: dict[str, Any], position: int,
            stream_id: str, actor: str, recorded_at: str) -> dict[str, Any]:
    """The body a receiver gets (without the delivery id, which travels in a header)."""
    return {"event": WEBHOOK_NAMES[event_type], "timestamp": recorded_at, "position": position,
            "stream_id": stream_id, "modelog_type": event_type, "actor": actor,
            "data": _mlflow_data(event_type, name, data)}


def ping_payload(webhook_id: str, now: str) -> dict[str, Any]:
    return {"event": PING, "timestamp": now, "position": None, "stream_id": f"webhook:{webhook_id}",
            "modelog_type": None, "actor": None, "data": {"webhook_id": webhook_id}}
