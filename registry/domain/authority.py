"""Which privileges a command needs, and whether a principal holds them: pure.

A command on an object that does not exist needs nothing here: deciding it raises NotFound. (It
tells a stranger no more than a 403 would: that a name is taken is visible to whoever creates it.)
"""

from registry.domain import commands as c
from registry.domain.errors import PermissionDenied
from registry.domain.names import FullName
from registry.domain.principals import Principal
from registry.domain.privileges import (
    METASTORE_NAME,
    Action,
    Securable,
    SecurableType,
    allowed,
    may_create_catalog,
)
from registry.domain.state import RegistryState

Need = tuple[Action, Securable]
METASTORE = Securable(SecurableType.METASTORE, METASTORE_NAME)


def needs(cmd: c.Command) -> list[Need]:
    """What `cmd` needs (admins have it all)."""
    catalog, schema = SecurableType.CATALOG, SecurableType.SCHEMA
    match cmd:
        case c.CreateCatalog():
            return [(Action.CREATE_CATALOG, METASTORE)]
        case c.RenameCatalog():
            # The catalog is changed, and a new top-level name claimed, as creating one does.
            return [(Action.MODIFY, Securable(catalog, cmd.name)), (Action.CREATE_CATALOG, METASTORE)]
        case c.UpdateCatalog() | c.DeleteCatalog():
            return [(Action.MODIFY, Securable(catalog, cmd.name))]
        case c.CreateSchema():
            return [(Action.CREATE_SCHEMA, Securable(catalog, cmd.catalog_name))]
        case c.UpdateSchema() | c.RenameSchema() | c.DeleteSchema():
            return [(Action.MODIFY, Securable(schema, f"{cmd.catalog_name}.{cmd.name}"))]
        case c.SecurableCommand():
            return [(Action.MANAGE, cmd.securable)]
        case c.CreateModel():
            return [(Action.CREATE_MODEL, _schema(cmd.full_name))]
        case c.RenameModel():
            out = [(Action.MODIFY, _model(cmd.full_name))]
            if _schema(cmd.new_full_name) != _schema(cmd.full_name):
                out.append((Action.CREATE_MODEL, _schema(cmd.new_full_name)))
            return out
        case c.SetModelTag() | c.DeleteModelTag() | c.SetVersionTag() | c.DeleteVersionTag():
            return [(Action.APPLY_TAG, _model(cmd.full_name))]
        case c.RequestTransition() | c.CancelTransition():
            # A request is what a reader asks of the model's managers; acting on one is theirs.
            return [(Action.READ, _model(cmd.full_name))]
        case c.ModelCommand():
            return [(Action.MODIFY, _model(cmd.full_name))]
    raise TypeError(f"unknown command {cmd!r}")


def denied(principal: Principal, cmd: c.Command, state: RegistryState) -> Need | None:
    """The first need of `cmd` that `principal` lacks (None: it may go ahead)."""
    if principal.admin:
        return None
    for action, securable in needs(cmd):
        if securable.type is SecurableType.METASTORE:
            # Granting on it is the admins'; creating a catalog, CREATE CATALOG's.
            metastore = state.chain(METASTORE)[0]  # type: ignore[index]
            if not (action is Action.CREATE_CATALOG and may_create_catalog(principal, metastore)):
                return action, securable
            continue
        chain = state.chain(securable)
        if chain is not None and not allowed(principal, action, chain):
            return action, securable
    return None


def check(principal: Principal, cmd: c.Command, state: RegistryState) -> None:
    """Raise PermissionDenied unless `principal` may run `cmd` against `state`."""
    need = denied(principal, cmd, state)
    if need is not None:
        raise denial(principal, *need)


def denial(principal: Principal, action: str, securable: Securable) -> PermissionDenied:
    return PermissionDenied(f"principal {principal.name!r} may not {action} "
                            f"{securable.type} {securable.full_name!r}",
                            securable_type=str(securable.type), full_name=securable.full_name,
                            action=str(action))


def _schema(full_name: str) -> Securable:
    name = FullName.parse(full_name)
    return Securable(SecurableType.SCHEMA, f"{name.catalog}.{name.schema}")


def _model(full_name: str) -> Securable:
    return Securable(SecurableType.REGISTERED_MODEL, full_name)
