"""`decide(command, state) -> (stream, events)`: the registry's one entry point for commands."""

from registry.domain import catalogs, models, privileges, schemas
from registry.domain import commands as c
from registry.domain.events import Event
from registry.domain.names import FullName
from registry.domain.state import RegistryState


def stream_of(cmd: c.Command, state: RegistryState) -> str | None:
    """The stream a command appends to, if it can be known before deciding (None: no such model)."""
    match cmd:
        case c.CreateCatalog():
            return catalogs.stream_id(cmd.catalog_id)
        case c.UpdateCatalog() | c.RenameCatalog() | c.DeleteCatalog():
            return state.catalog_streams.get(cmd.name)
        case c.CreateSchema():
            return schemas.stream_id(cmd.schema_id)
        case c.UpdateSchema() | c.RenameSchema() | c.DeleteSchema():
            return state.schema_streams.get((cmd.catalog_name, cmd.name))
        case c.CreateModel():
            return models.stream_id(cmd.model_id)
        case c.ModelCommand():
            return state.model_stream(cmd.full_name)
        case c.SecurableCommand():
            return state.securable_stream(cmd.securable)
    raise TypeError(f"unknown command {cmd!r}")


def decide(cmd: c.Command, state: RegistryState, actor: str) -> tuple[str, list[Event]]:
    stream = stream_of(cmd, state)
    match cmd:
        case c.RenameCatalog():
            events = catalogs.decide(cmd, state.catalogs.get(cmd.name), 0, actor,
                                     name_taken=cmd.new_name in state.catalogs)
        case c.CreateCatalog() | c.UpdateCatalog() | c.DeleteCatalog():
            events = catalogs.decide(cmd, state.catalogs.get(cmd.name),
                                     state.schema_counts[cmd.name], actor)
        case c.RenameSchema():
            events = schemas.decide(
                cmd, state.schemas.get((cmd.catalog_name, cmd.name)),
                state.catalogs.get(cmd.catalog_name), 0, actor,
                name_taken=(cmd.catalog_name, cmd.new_name) in state.schemas,
            )
        case c.CreateSchema() | c.UpdateSchema() | c.DeleteSchema():
            events = schemas.decide(
                cmd, state.schemas.get((cmd.catalog_name, cmd.name)),
                state.catalogs.get(cmd.catalog_name),
                state.models_in(cmd.catalog_name, cmd.name), actor,
            )
        case c.CreateModel():
            events = models.decide(cmd, None, actor, _placement(cmd.full_name, state))
        case c.RenameModel():
            events = models.decide(cmd, state.model_named(cmd.full_name), actor,
                                   _placement(cmd.new_full_name, state))
        case c.ModelCommand():
            events = models.decide(cmd, state.model_named(cmd.full_name), actor)
        case c.UpdatePermissions():
            events = privileges.change(_acl(stream, state), cmd.securable, cmd.changes)
        case c.TransferOwnership():
            events = privileges.transfer(_acl(stream, state), cmd.securable, cmd.owner)
        case _:
            raise TypeError(f"unknown command {cmd!r}")
    assert stream is not None or not events
    return stream or "", events


def _placement(full_name: str, state: RegistryState) -> models.Placement:
    name = FullName.parse(full_name)
    return models.Placement(
        schema_exists=(name.catalog, name.schema) in state.schemas,
        name_taken=state.model_id(full_name) is not None,
        catalog_exists=name.catalog in state.catalogs,
    )


def _acl(stream: str | None, state: RegistryState) -> privileges.Acl | None:
    return None if stream is None else state.acls.get(stream)
