"""What renaming a catalog or a schema takes with it: everything inside follows, each object
with a rename event on its own stream (schemas, then models), so each one's history shows its
name change and the past, read by the names of then, stays as it was. Pure."""

from registry.domain import commands as c
from registry.domain import models, names
from registry.domain.errors import FailedPrecondition
from registry.domain.events import Event, ModelRenamed, SchemaRenamed
from registry.domain.state import RegistryState


def followers(cmd: c.Command, state: RegistryState) -> list[tuple[str, Event]]:
    """The events, each with its stream, that carry what is inside along once `cmd` (a rename
    of a catalog or a schema, decided and accepted) renames it; none for any other command.

    Events rather than commands to decide: nothing inside can refuse. The renamed object's new
    name was free, so no name under it is taken; and the writer's state moves only when the
    whole transaction commits, so renames decided one after the other would not see the new
    parent yet. `state` is as it was before `cmd`."""
    match cmd:
        case c.RenameCatalog():
            old, new = f"{cmd.name}.", f"{cmd.new_name}."
            inner: list[tuple[str, Event]] = [
                (stream, SchemaRenamed(from_full_name=f"{catalog}.{name}",
                                       catalog_name=cmd.new_name, name=name))
                for (catalog, name), stream in sorted(state.schema_streams.items())
                if catalog == cmd.name]
        case c.RenameSchema():
            old = f"{cmd.catalog_name}.{cmd.name}."
            new = f"{cmd.catalog_name}.{cmd.new_name}."
            inner = []
        case _:
            return []
    # Catalog and schema names hold no dots, so the prefix takes exactly what is inside; a
    # model's own name (the last level) may hold dots, and stays as it is.
    for full in state.models_under(old):
        catalog, schema, name = names.levels(new + full[len(old):])
        inner.append((models.stream_id(state.model_ids[full]),
                      ModelRenamed(from_full_name=full, catalog_name=catalog, schema_name=schema,
                                   name=name)))
    return inner


def keep_workspace(cmd: c.Command, workspace: str | None) -> None:
    """Refuse renaming the workspace schema (`catalog.schema`) or its catalog: every MLflow
    name is a model of that schema, so renaming it would move every MLflow client's models out
    from under it (the server would go on looking in a schema that is no longer there)."""
    if workspace is None:
        return
    catalog, _, schema = workspace.partition(".")
    match cmd:
        case c.RenameCatalog() if cmd.name == catalog:
            what = f"catalog {catalog!r} holds"
        case c.RenameSchema() if (cmd.catalog_name, cmd.name) == (catalog, schema):
            what = f"schema {workspace!r} is"
        case _:
            return
    raise FailedPrecondition(
        f"{what} the workspace schema, where the MLflow API's models live "
        f"(--default-schema {workspace}); it cannot be renamed", workspace=workspace)
