"""The requests of MLflow's webhooks API, as MLflow's protobuf JSON carries them, validated; what
MLflow's server makes of each field (an empty name or URL in an update changes nothing, an empty
secret removes the signature) is said here once."""

from typing import Any

import pydantic
from pydantic import StrictInt, StrictStr

from registry.domain import mlflow_webhooks as rules
from registry.domain.errors import InvalidArgument


class Body(pydantic.BaseModel):
    # As MLflow's server: fields it does not know (other versions' clients) are ignored.
    model_config = pydantic.ConfigDict(extra="ignore")


class WireEvent(Body):
    entity: StrictStr | StrictInt | None = None
    action: StrictStr | StrictInt | None = None

    def name(self) -> str:
        return rules.event_from_wire(self.entity, self.action)


def _required(name: str, value: Any) -> Any:
    if value is None or value == "":
        raise InvalidArgument(f"Missing value for required parameter '{name}'. See the API docs "
                              "for more information about request parameters.", field=name)
    return value


class CreateWebhook(Body):
    name: StrictStr | None = None
    url: StrictStr | None = None
    events: list[WireEvent] | None = None
    description: StrictStr | None = None
    secret: StrictStr | None = None
    status: StrictStr | StrictInt | None = None

    def registration(self) -> dict[str, Any]:
        """The arguments of Webhooks.create."""
        events = _required("events", self.events)
        return {"name": _required("name", self.name), "url": _required("url", self.url),
                "events": [e.name() for e in events], "description": self.description or None,
                "secret": self.secret or None,
                "active": True if not self.status else rules.status_from_wire(self.status)}


class UpdateWebhook(Body):
    name: StrictStr | None = None
    url: StrictStr | None = None
    events: list[WireEvent] | None = None
    description: StrictStr | None = None
    secret: StrictStr | None = None
    status: StrictStr | StrictInt | None = None

    def changes(self) -> dict[str, Any]:
        """The arguments of Webhooks.update: only what changes."""
        out: dict[str, Any] = {}
        if self.name:
            out["name"] = self.name
        if self.url:
            out["url"] = self.url
        if self.events:
            out["events"] = [e.name() for e in self.events]
        if self.description is not None:
            out["description"] = self.description
        if self.secret is not None:
            out["secret"] = self.secret
        if self.status is not None:
            out["active"] = rules.status_from_wire(self.status)
        return out


class TestWebhook(Body):
    __test__ = False  # not a pytest class

    event: WireEvent | None = None


class ListWebhooks(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    max_results: int | None = None
    page_token: str | None = None
