"""Read models built from the event log. Inline ones commit with their events."""

from .model_aliases import model_aliases
from .model_versions import model_versions
from .namespaces import catalogs, schemas
from .registered_models import model_names, registered_models
from .runner import Projection, Projector
from .tags import model_tags, version_tags
from .transition_requests import transition_requests

INLINE: tuple[Projection, ...] = (
    catalogs, schemas, registered_models, model_names, model_versions, model_aliases,
    model_tags, version_tags, transition_requests,
)


def inline_projector() -> Projector:
    return Projector(INLINE)


__all__ = ["INLINE", "Projection", "Projector", "inline_projector"]
