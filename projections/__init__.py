"""Read models built from the event log. Inline ones commit with their events."""

from .alias_history import AliasHistory
from .catch_up import CatchUpProjection
from .grants import grants
from .model_aliases import model_aliases
from .model_versions import model_versions
from .namespaces import catalogs, schemas
from .registered_models import model_names, registered_models
from .runner import Projection, Projector
from .tags import model_tags, version_tags
from .transition_requests import transition_requests
from .webhook_outbox import WebhookOutbox

INLINE: tuple[Projection, ...] = (
    catalogs, schemas, registered_models, model_names, model_versions, model_aliases,
    model_tags, version_tags, transition_requests, grants,
)


# Followed behind the writers, each with a checkpoint (projections/catch_up.py).
def catch_up_projections() -> tuple[CatchUpProjection, ...]:
    return (AliasHistory(), WebhookOutbox())


def inline_projector() -> Projector:
    return Projector(INLINE)


__all__ = ["INLINE", "Projection", "Projector", "catch_up_projections", "inline_projector"]
