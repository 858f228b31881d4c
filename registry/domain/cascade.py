"""What a forced delete takes with it: deleting a catalog or a schema with `force` deletes what
is inside first (models with their versions, then schemas), each as its own events on its own
stream, so the past of everything removed stays readable. Pure."""

from registry.domain import commands as c
from registry.domain.state import RegistryState


def contents(cmd: c.Command, state: RegistryState) -> list[c.Command]:
    """The deletes to carry out before `cmd`, innermost first; none unless `cmd` is a forced
    delete of a catalog or a schema."""
    match cmd:
        case c.DeleteCatalog(force=True):
            prefix = f"{cmd.name}."
            inner = sorted(name for catalog, name in state.schemas if catalog == cmd.name)
            schemas = [c.DeleteSchema(catalog_name=cmd.name, name=n, force=True) for n in inner]
        case c.DeleteSchema(force=True):
            prefix, schemas = f"{cmd.catalog_name}.{cmd.name}.", []
        case _:
            return []
    # Catalog and schema names hold no dots, so the prefix takes exactly what is inside.
    models = state.models_under(prefix)
    return [*(c.DeleteModel(full_name=full, force=True) for full in models), *schemas]
