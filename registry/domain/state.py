"""The write model: the fold of the log that commands are decided against.

Catalogs, schemas and the index of live model names are always complete (they are small). Model
aggregates may be held only in part: the shell loads a model's stream before deciding a command on
it (`missing_streams`). Pure: no I/O, only dictionaries updated by `apply`.
"""

from collections import Counter
from uuid import UUID

from . import catalogs, models, schemas
from .events import Event, ModelCreated, ModelDeleted, ModelRenamed, Stamp


class RegistryState:
    def __init__(self) -> None:
        self.catalogs: dict[str, catalogs.Catalog] = {}
        self.schemas: dict[tuple[str, str], schemas.Schema] = {}
        self.model_ids: dict[str, UUID] = {}  # live full name -> model id
        self.models: dict[UUID, models.Model] = {}  # loaded model aggregates
        self.schema_counts: Counter[str] = Counter()  # catalog -> live schemas
        self.model_counts: Counter[tuple[str, str]] = Counter()  # (catalog, schema) -> live models

    def apply(self, stream_id: str, event: Event, stamp: Stamp) -> None:
        kind, _, key = stream_id.partition(":")
        if kind == "model":
            self._apply_model(UUID(key), event, stamp)
        elif kind == "schema":
            catalog, _, name = key.partition(".")
            before = self.schemas.get((catalog, name))
            after = schemas.evolve(before, event, stamp)
            _put(self.schemas, (catalog, name), after)
            self.schema_counts[catalog] += (after is not None) - (before is not None)
        elif kind == "catalog":
            _put(self.catalogs, key, catalogs.evolve(self.catalogs.get(key), event, stamp))

    def _apply_model(self, model_id: UUID, event: Event, stamp: Stamp) -> None:
        # The name index and counts follow from the events themselves, loaded model or not.
        match event:
            case ModelCreated():
                self.model_ids[event.full_name] = model_id
                self.model_counts[(event.catalog_name, event.schema_name)] += 1
            case ModelRenamed():
                old = self.model_ids.pop(event.from_full_name, None)
                self.model_ids[event.full_name] = old or model_id
                fc, fs, _ = event.from_full_name.split(".")
                self.model_counts[(fc, fs)] -= 1
                self.model_counts[(event.catalog_name, event.schema_name)] += 1
            case ModelDeleted():
                self.model_ids.pop(event.full_name, None)
                fc, fs, _ = event.full_name.split(".")
                self.model_counts[(fc, fs)] -= 1
        state = self.models.get(model_id)
        if state is not None or isinstance(event, ModelCreated):
            _put(self.models, model_id, models.evolve(state, event, stamp))

    def model_stream(self, full_name: str) -> str | None:
        model_id = self.model_ids.get(full_name)
        return None if model_id is None else models.stream_id(model_id)

    def model_named(self, full_name: str) -> models.Model | None:
        model_id = self.model_ids.get(full_name)
        if model_id is None:
            return None
        try:
            return self.models[model_id]
        except KeyError:
            raise LookupError(f"model {full_name} ({model_id}) is not loaded") from None


def _put(mapping: dict, key: object, value: object) -> None:
    if value is None:
        mapping.pop(key, None)
    else:
        mapping[key] = value
