"""Which MLflow webhook event an event of the log is, and its payload, as MLflow's server decides
them (mlflow/server/handlers.py): a prompt is a registered model tagged
`mlflow.prompt.is_prompt = "true"`, and events on it are the prompt events. Pure.

`name` is the model's name on the MLflow surface (registry.domain.names.workspace_name); the
caller sends nothing for a model that has none there.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

IS_PROMPT = "mlflow.prompt.is_prompt"
PROMPT_TYPE = "_mlflow_prompt_type"
PROMPT_TEXT = "mlflow.prompt.text"


@dataclass(frozen=True)
class MlflowEvent:
    event: str  # 'model_version.created'
    data: dict[str, Any]


def _says_prompt(tags: dict[str, str]) -> bool:
    return tags.get(IS_PROMPT, "false").lower() == "true"


def prompt_flag(event_type: str, data: dict[str, Any]) -> bool | None:
    """Whether the model is a prompt after this event of its stream; None: the event does not
    say (a model starts as no prompt)."""
    match event_type:
        case "ModelCreated" if _says_prompt(data.get("tags", {})):
            return True
        case "ModelTagSet" if data["key"] == IS_PROMPT:
            return data["value"].lower() == "true"
        case "ModelTagDeleted" if data["key"] == IS_PROMPT:
            return False
    return None


def _without(tags: dict[str, str], *keys: str) -> dict[str, str]:
    return {k: v for k, v in tags.items() if k not in keys}


def mlflow_event(event_type: str, name: str, data: dict[str, Any],
                 prompt: bool) -> MlflowEvent | None:
    """The MLflow event for a model's event, `prompt`: whether the model is a prompt after it.
    A model's creation and a version's are prompt events by their own tags, as MLflow's server
    judges the request; the rest by the model's."""
    version = str(data["version"]) if "version" in data else None
    version_tag, alias = (("prompt_version_tag", "prompt_alias") if prompt
                          else ("model_version_tag", "model_version_alias"))  # MLflow's entities
    match event_type:
        case "ModelCreated":
            tags = data.get("tags", {})
            if _says_prompt(tags):
                return MlflowEvent("prompt.created", {
                    "name": name, "tags": _without(tags, IS_PROMPT, PROMPT_TYPE),
                    "description": data.get("description") or ""})
            return MlflowEvent("registered_model.created", {
                "name": name, "tags": tags, "description": data.get("description") or ""})
        case "VersionRegistered":
            tags = data.get("tags", {})
            if _says_prompt(tags):
                return MlflowEvent("prompt_version.created", {
                    "name": name, "version": version, "template": tags.get(PROMPT_TEXT),
                    "tags": _without(tags, PROMPT_TEXT, IS_PROMPT, PROMPT_TYPE),
                    "description": data.get("description") or None})
            return MlflowEvent("model_version.created", {
                "name": name, "version": version, "source": data["source"],
                "run_id": data.get("run_id") or None, "tags": tags,
                "description": data.get("description") or None})
        case "ModelTagSet" if prompt:
            return MlflowEvent("prompt_tag.set", {"name": name, "key": data["key"],
                                                  "value": data["value"]})
        case "ModelTagDeleted" if prompt:
            return MlflowEvent("prompt_tag.deleted", {"name": name, "key": data["key"]})
        case "VersionTagSet":
            return MlflowEvent(f"{version_tag}.set", {
                "name": name, "version": version, "key": data["key"], "value": data["value"]})
        case "VersionTagDeleted":
            return MlflowEvent(f"{version_tag}.deleted", {
                "name": name, "version": version, "key": data["key"]})
        case "AliasSet":
            return MlflowEvent(f"{alias}.created", {
                "name": name, "alias": data["alias"], "version": version})
        case "AliasDeleted":
            return MlflowEvent(f"{alias}.deleted", {
                "name": name, "alias": data["alias"]})
    return None


def envelope(event: str, data: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The body MLflow POSTs: entity, action, when, and the payload as `data`."""
    entity, _, action = event.partition(".")
    return {"entity": entity, "action": action,
            "timestamp": at.astimezone(UTC).isoformat(), "data": data}


# What `test_webhook` sends for each event: MLflow's example payloads (mlflow/webhooks/types.py).
_MODEL, _PROMPT = "example_model", "example_prompt"
_TAGS = {"example_key": "example_value"}
EXAMPLES: dict[str, dict[str, Any]] = {
    "registered_model.created": {"name": _MODEL, "tags": _TAGS,
                                 "description": "An example registered model"},
    "model_version.created": {"name": _MODEL, "version": "1", "source": "models:/123",
                              "run_id": "abcd1234abcd5678", "tags": _TAGS,
                              "description": "An example model version"},
    "model_version_tag.set": {"name": _MODEL, "version": "1", "key": "example_key",
                              "value": "example_value"},
    "model_version_tag.deleted": {"name": _MODEL, "version": "1", "key": "example_key"},
    "model_version_alias.created": {"name": _MODEL, "alias": "example_alias", "version": "1"},
    "model_version_alias.deleted": {"name": _MODEL, "alias": "example_alias"},
    "prompt.created": {"name": _PROMPT, "tags": _TAGS, "description": "An example prompt"},
    "prompt_version.created": {"name": _PROMPT, "version": "1", "template": "Hello {{name}}!",
                               "tags": _TAGS, "description": "An example prompt version"},
    "prompt_tag.set": {"name": _PROMPT, "key": "example_key", "value": "example_value"},
    "prompt_tag.deleted": {"name": _PROMPT, "key": "example_key"},
    "prompt_version_tag.set": {"name": _PROMPT, "version": "1", "key": "example_key",
                               "value": "example_value"},
    "prompt_version_tag.deleted": {"name": _PROMPT, "version": "1", "key": "example_key"},
    "prompt_alias.created": {"name": _PROMPT, "alias": "example_alias", "version": "1"},
    "prompt_alias.deleted": {"name": _PROMPT, "alias": "example_alias"},
    "budget_policy.exceeded": {
        "budget_policy_id": "bp-abc123", "budget_unit": "USD", "budget_amount": 100.0,
        "current_spend": 105.50, "duration_unit": "MONTHS", "duration_value": 1,
        "target_scope": "ENDPOINT", "workspace": "default", "target_value": "ep-abc123",
        "window_start": 1704067200000},
}
