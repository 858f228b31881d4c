"""Read models built from the event log. Inline ones commit with their events."""

from projections.alias_history import AliasHistory
from projections.catch_up import CatchUpProjection
from projections.grants import grants
from projections.model_aliases import model_aliases
from projections.model_versions import model_versions
from projections.namespaces import catalogs, schemas
from projections.registered_models import model_names, registered_models
from projections.runner import Projection, Projector
from projections.tags import model_tags, version_tags
from projections.transition_requests import transition_requests
from projections.webhook_outbox import WebhookOutbox

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
