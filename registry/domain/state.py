"""The write model: the fold of the log that commands are decided against.

Catalogs, schemas and their ACLs (owner and grants, by stream) are always complete (they are
few). Catalogs and schemas are found by name through `catalog_streams` and `schema_streams`, as
models through `model_ids`: a stream keeps its object through renames, so its key says nothing about
the object's name now.

Models may be many, so the index of their names and ACLs may be partial (`complete` False): the
shell looks up what a command or a check names before deciding it (registry/service/write_model.py),
and a name neither indexed nor known to be free (`free_names`; `gone_ids` for identities) is
`Unknown`, never taken for missing. An event that names a model makes its entry exact: a creation
or a rename indexes the name it claims, a rename or a delete marks the name it leaves free. Model
aggregates may be held only in part too: the shell loads a model's stream before deciding a
command on it. Pure: no I/O, only dictionaries updated by `apply`.
"""

from collections import Counter
from uuid import UUID

from registry.domain import catalogs, models, names, privileges, schemas, streams
from registry.domain.events import Event, ModelCreated, ModelDeleted, ModelRenamed, Stamp


class Unknown(LookupError):
    """A model name or identity the partial index has not looked up: the shell's omission."""


class RegistryState:
    def __init__(self, *, complete: bool = True) -> None:
        self.complete = complete  # False: the model index holds what was looked up
        self.catalogs: dict[str, catalogs.Catalog] = {}
        self.schemas: dict[tuple[str, str], schemas.Schema] = {}
        self.catalog_streams: dict[str, str] = {}  # live catalog name -> its stream
        self.schema_streams: dict[tuple[str, str], str] = {}  # live (catalog, schema) -> stream
        self.namespace_keys: dict[str, str | tuple[str, str]] = {}  # stream -> live name
        self.model_ids: dict[str, UUID] = {}  # live full name -> model id
        self.model_names: dict[UUID, str] = {}  # live model id -> full name
        self.free_names: set[str] = set()  # names known to be no live model's (partial index)
        self.gone_ids: set[UUID] = set()  # identities known to be no live model's
        self.models: dict[UUID, models.Model] = {}  # loaded model aggregates
        self.schema_counts: Counter[str] = Counter()  # catalog -> live schemas
        self.acls: dict[str, privileges.Acl] = {  # stream of a live securable -> its ACL
            METASTORE_STREAM: privileges.Acl(""),  # always there, owned by the admins alone
        }

    def apply(self, stream_id: str, event: Event, stamp: Stamp) -> None:
        kind, key = streams.parse(stream_id)
        if kind in _SECURABLES:
            _put(self.acls, stream_id, privileges.evolve(self.acls.get(stream_id), event))
        if kind == "model":
            self._apply_model(UUID(key), event, stamp)
        elif kind == "schema":
            s_key = self.namespace_keys.get(stream_id)
            before = None if s_key is None else self.schemas.get(s_key)  # type: ignore[arg-type]
            after = schemas.evolve(before, event, stamp)
            if before is not None:
                self._unindex(stream_id, self.schemas, self.schema_streams)
                self.schema_counts[before.catalog_name] -= 1
            if after is not None:
                self._index(stream_id, (after.catalog_name, after.name), after, self.schemas,
                            self.schema_streams)
                self.schema_counts[after.catalog_name] += 1
        elif kind == "catalog":
            c_key = self.namespace_keys.get(stream_id)
            before = None if c_key is None else self.catalogs.get(c_key)  # type: ignore[arg-type]
            after = catalogs.evolve(before, event, stamp)
            if before is not None:
                self._unindex(stream_id, self.catalogs, self.catalog_streams)
            if after is not None:
                self._index(stream_id, after.name, after, self.catalogs, self.catalog_streams)

    def _index(self, stream_id: str, key: str | tuple[str, str], value: object, objects: dict,
               by_name: dict) -> None:
        """`value` is found by `key`, its name now, and so is its stream; and back."""
        objects[key] = value
        by_name[key] = stream_id
        self.namespace_keys[stream_id] = key

    def _unindex(self, stream_id: str, objects: dict, by_name: dict) -> None:
        key = self.namespace_keys.pop(stream_id)
        objects.pop(key, None)
        by_name.pop(key, None)

    def add_catalog(self, stream_id: str, catalog: catalogs.Catalog) -> None:
        """A live catalog as the read models have it (the write model's load)."""
        self._index(stream_id, catalog.name, catalog, self.catalogs, self.catalog_streams)

    def add_schema(self, stream_id: str, schema: schemas.Schema) -> None:
        self._index(stream_id, (schema.catalog_name, schema.name), schema, self.schemas,
                    self.schema_streams)
        self.schema_counts[schema.catalog_name] += 1

    def _apply_model(self, model_id: UUID, event: Event, stamp: Stamp) -> None:
        # The name index follows from the events themselves, loaded model or not: the names an
        # event claims or leaves are exact from then on.
        match event:
            case ModelCreated():
                self._claim(event.full_name, model_id)
            case ModelRenamed():
                self.model_ids.pop(event.from_full_name, None)
                self._leave(event.from_full_name)
                self._claim(event.full_name, model_id)
            case ModelDeleted():
                self.model_ids.pop(event.full_name, None)
                self.model_names.pop(model_id, None)
                self._leave(event.full_name)
                if not self.complete:
                    self.gone_ids.add(model_id)
        state = self.models.get(model_id)
        if state is not None or isinstance(event, ModelCreated):
            _put(self.models, model_id, models.evolve(state, event, stamp))

    def _claim(self, full_name: str, model_id: UUID) -> None:
        self.model_ids[full_name] = model_id
        self.model_names[model_id] = full_name
        self.free_names.discard(full_name)

    def _leave(self, full_name: str) -> None:
        if not self.complete:
            self.free_names.add(full_name)

    def model_id(self, full_name: str) -> UUID | None:
        """The live model named `full_name`, if any (`Unknown` if the index never looked)."""
        model_id = self.model_ids.get(full_name)
        if model_id is None and not self.complete and full_name not in self.free_names:
            raise Unknown(f"model name {full_name!r} was not looked up")
        return model_id

    def model_name(self, model_id: UUID) -> str | None:
        """The name a live model bears now; None if it was deleted (`Unknown` if never looked)."""
        name = self.model_names.get(model_id)
        if name is None and not self.complete and model_id not in self.gone_ids:
            raise Unknown(f"model {model_id} was not looked up")
        return name

    def models_under(self, prefix: str) -> list[str]:
        """The indexed live models whose names start with `prefix` (`catalog.` or
        `catalog.schema.`): all there are, once the shell has looked the prefix up."""
        return sorted(f for f in self.model_ids if f.startswith(prefix))

    def models_in(self, catalog: str, schema: str) -> int:
        return len(self.models_under(f"{catalog}.{schema}."))

    def model_stream(self, full_name: str) -> str | None:
        model_id = self.model_id(full_name)
        return None if model_id is None else models.stream_id(model_id)

    def securable_stream(self, securable: privileges.Securable) -> str | None:
        """The stream of a live securable, by its current name."""
        match securable.type:
            case privileges.SecurableType.METASTORE:
                stream = METASTORE_STREAM if securable.full_name == privileges.METASTORE_NAME else ""
            case privileges.SecurableType.CATALOG:
                stream = self.catalog_streams.get(securable.full_name)
            case privileges.SecurableType.SCHEMA:
                catalog, _, name = securable.full_name.partition(".")
                stream = self.schema_streams.get((catalog, name))
            case _:
                stream = self.model_stream(securable.full_name)
        return stream if stream in self.acls else None

    def chain(self, securable: privileges.Securable) -> list[privileges.Acl] | None:
        """The ACLs from the catalog down to `securable`; None if any of them does not exist. The
        metastore is above every catalog but is a chain of its own: it grants nothing below it."""
        if securable.type is privileges.SecurableType.METASTORE:
            stream = self.securable_stream(securable)
            return None if stream is None else [self.acls[stream]]
        parts = names.levels(securable.full_name)
        levels = list(privileges.SecurableType)[: len(parts)]
        # A name of more levels than there are ('unity.default.m.', 'unity.default.m.x') is
        # nothing's: cut to three it would find the model 'unity.default.m' and check against it.
        if len(levels) != len(parts) or levels[-1:] != [securable.type]:
            return None
        out = []
        for depth, level in enumerate(levels, 1):
            stream = self.securable_stream(privileges.Securable(level, ".".join(parts[:depth])))
            if stream is None:
                return None
            out.append(self.acls[stream])
        return out

    def model_named(self, full_name: str) -> models.Model | None:
        model_id = self.model_id(full_name)
        if model_id is None:
            return None
        try:
            return self.models[model_id]
        except KeyError:
            raise LookupError(f"model {full_name} ({model_id}) is not loaded") from None


_SECURABLES = frozenset({"catalog", "schema", "model", "metastore"})
METASTORE_STREAM = f"metastore:{privileges.METASTORE_NAME}"


def _put(mapping: dict, key: object, value: object) -> None:
    if value is None:
        mapping.pop(key, None)
    else:
        mapping[key] = value
