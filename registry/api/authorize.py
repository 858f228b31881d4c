"""The privilege check of a request: the caller's principal against the write model's ACLs.

The ACLs are the write model's, in memory and folded from the log as it commits, so a check costs
no database round trip, and a grant or revoke counts from the next request on. The check of a
write runs before the command reaches the writer: a revocation committed in between is not seen
by that one command.
"""

import asyncio
from collections.abc import Callable
from uuid import UUID

from aiohttp import web

from ..domain.authority import denied
from ..domain.commands import Command
from ..domain.errors import NotFound, PermissionDenied
from ..domain.privileges import Action, Chain, Securable, SecurableType, allowed
from ..domain.state import RegistryState
from .errors import ApiError
from .keys import COMMAND, PRINCIPAL, SERVICE


def state(request: web.Request) -> RegistryState:
    """The write model's state, unless it is between a reset and its reload: then a 503 (a retry
    finds it reloaded), never a check against an empty state that would see no object at all."""
    service = request.app[SERVICE]
    if not service.write_model.loaded and not request[PRINCIPAL].admin:
        if not any(not t.done() for t in _reloads):
            # An empty batch is enough: the writer reloads its model before deciding anything.
            task = asyncio.get_running_loop().create_task(service.store.transact(_nothing))
            _reloads.add(task)
            task.add_done_callback(_reloads.discard)
        raise ApiError(503, "UNAVAILABLE", "privileges are being reloaded; retry")
    return service.write_model.state


_reloads: set[asyncio.Task] = set()


async def _nothing(tx: object) -> None:
    return None


def chain(request: web.Request, securable: Securable) -> Chain:
    found = state(request).chain(securable)
    if found is None:
        raise NotFound(f"{securable.type} {securable.full_name!r} does not exist",
                       securable=securable.full_name)
    return found


def require_for(request: web.Request, cmd: Command) -> None:
    """Every write goes through here (dispatch.execute)."""
    need = denied(request[PRINCIPAL], cmd, state(request))
    if need is not None:
        raise denial(request, *need)


def require_read(request: web.Request, full_name: str) -> None:
    """Reading a model or its versions needs EXECUTE (or ownership) and USE on its parents. A
    request that has run a command was checked for it already: its answer reads what it wrote."""
    if COMMAND in request or _may_read(request, full_name) is not False:
        return  # None: no such model now, and its 404 follows
    raise denial(request, Action.READ, Securable(SecurableType.REGISTERED_MODEL, full_name))


def model_filter(request: web.Request) -> Callable[[str], bool]:
    """Which models (by full name) a listing may show the caller: those it may read."""
    return lambda full_name: bool(_may_read(request, full_name))


def _may_read(request: web.Request, full_name: str) -> bool | None:
    principal = request[PRINCIPAL]
    if principal.admin:
        return True
    acls = state(request).chain(Securable(SecurableType.REGISTERED_MODEL, full_name))
    return None if acls is None else allowed(principal, Action.READ, acls)


def denial(request: web.Request, action: str, securable: Securable) -> PermissionDenied:
    return PermissionDenied(f"principal {request[PRINCIPAL].name!r} may not {action} "
                            f"{securable.type} {securable.full_name!r}",
                            securable_type=str(securable.type), full_name=securable.full_name,
                            action=str(action))


def require_read_object(request: web.Request, model_id: UUID, full_name: str) -> None:
    """Reading a model found by a name it bore once (`as_of`, timelines): the check is on that
    object, under the name it has now, since grants belong to it and follow it through renames.
    Whoever holds the old name since says nothing about it, and a deleted model's grants ended
    with it: its past is for admins."""
    if not object_filter(request)(model_id):
        raise denial(request, Action.READ, Securable(SecurableType.REGISTERED_MODEL, full_name))


def object_filter(request: web.Request) -> Callable[[UUID], bool]:
    """Which models (by id, whatever they were called) the caller may read now."""
    if request[PRINCIPAL].admin:
        return lambda _: True
    names = {held: name for name, held in state(request).model_ids.items()}
    return lambda model_id: model_id in names and bool(_may_read(request, names[model_id]))
