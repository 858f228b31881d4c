"""What a partial model index must hold before a command is decided (registry/domain/state.py):
the model names it refers to, and the namespaces whose every model it carries along. Pure."""

from dataclasses import dataclass

from registry.domain import commands as c
from registry.domain.privileges import SecurableType


@dataclass(frozen=True, slots=True)
class Lookups:
    names: tuple[str, ...] = ()
    # `catalog.` or `catalog.schema.`: every model under it, as a rename or a delete of the
    # namespace moves, removes or counts them all.
    prefixes: tuple[str, ...] = ()


def lookups(cmd: c.Command) -> Lookups:
    match cmd:
        case c.RenameModel():
            return Lookups((cmd.full_name, cmd.new_full_name))
        case c.ModelCommand():
            return Lookups((cmd.full_name,))
        case c.SecurableCommand() if cmd.securable_type is SecurableType.REGISTERED_MODEL:
            return Lookups((cmd.full_name,))
        case c.RenameCatalog() | c.DeleteCatalog(force=True):
            return Lookups(prefixes=(f"{cmd.name}.",))
        case c.RenameSchema() | c.DeleteSchema():
            return Lookups(prefixes=(f"{cmd.catalog_name}.{cmd.name}.",))
    return Lookups()
