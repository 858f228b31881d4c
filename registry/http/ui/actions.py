"""The UI's writes: each form builds the same domain command the APIs build and runs it through
the same dispatch (privilege check, audit metadata, request id), then redirects back to the page
with what happened, a refusal included (POST/redirect/GET)."""

from collections.abc import Awaitable, Callable

import pydantic
from aiohttp import web

from registry.domain import commands as c
from registry.domain.errors import DomainError
from registry.http.dispatch import execute
from registry.http.errors import ApiError
from registry.http.ui import session
from registry.http.ui.model_page import model_url
from registry.http.ui.render import page, problem, record_denied, redirect

Build = Callable[[web.Request, dict[str, str]], tuple[c.Command, str]]  # command, what it did


def _name(request: web.Request) -> str:
    return request.match_info["full_name"]


def _version(request: web.Request, form: dict[str, str]) -> int:
    """From the path, or the form's field (a form naming any version posts to the model)."""
    text = request.match_info.get("version") or form.get("version", "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        raise ApiError(400, "INVALID_ARGUMENT", f"version must be a version number, not {text!r}")
    return int(text)


def action(build: Build) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def view(request: web.Request) -> web.Response:
        try:
            form = await session.check_form(request)
        except ApiError as exc:
            return page(request, "error.html", status=exc.status, error=exc)
        here = model_url(_name(request))
        if "version" in request.match_info:  # a version's own form: back to its page
            here += f"/versions/{request.match_info['version']}"
        back = session.local_target(form.get("back"), here)
        try:
            cmd, done = build(request, form)
            await execute(request, cmd)
        except (ApiError, DomainError, pydantic.ValidationError) as exc:
            await record_denied(request, exc)
            err = problem(exc)
            return redirect(request, back, f"Refused ({err.status} {err.code}): {err.message}",
                            ok=False)
        return redirect(request, back, done)

    return view


def _text(form: dict[str, str], key: str) -> str:
    return form.get(key, "").strip()


def _optional(form: dict[str, str], key: str) -> str | None:
    return _text(form, key) or None


@action
def set_alias(request: web.Request, form: dict[str, str]) -> tuple[c.Command, str]:
    alias, version = _text(form, "alias"), _text(form, "version")
    # The version is the form's text: the command's model reads it as a number, or refuses it.
    return (c.SetAlias.model_validate({"full_name": _name(request), "alias": alias,
                                       "version": version}),
            f"Alias {alias} now points at version {version}.")


@action
def delete_alias(request: web.Request, form: dict[str, str]) -> tuple[c.Command, str]:
    alias = request.match_info["alias"]
    return c.DeleteAlias(full_name=_name(request), alias=alias), f"Alias {alias} deleted."


@action
def set_description(request: web.Request, form: dict[str, str]) -> tuple[c.Command, str]:
    return (c.UpdateModelDescription(full_name=_name(request),
                                     description=_optional(form, "description")),
            "Description saved.")


@action
def set_tag(request: web.Request, form: dict[str, str]) -> tuple[c.Command, str]:
    key = _text(form, "key")
    return (c.SetModelTag(full_name=_name(request), key=key, value=form.get("value", "")),
            f"Tag {key} set.")


@action
def delete_tag(request: web.Request, form: dict[str, str]) -> tuple[c.Command, str]:
    key = form.get("key", "")
    return c.DeleteModelTag(full_name=_name(request), key=key), f"Tag {key} deleted."


@action
def set_version_description(request: web.Request, form: dict[str, str]) -> tuple[c.Command, str]:
    version = _version(request, form)
    return (c.UpdateVersionDescription(full_name=_name(request), version=version,
                                       description=_optional(form, "description")),
            f"Description of version {version} saved.")


@action
def set_version_tag(request: web.Request, form: dict[str, str]) -> tuple[c.Command, str]:
    version, key = _version(request, form), _text(form, "key")
    return (c.SetVersionTag(full_name=_name(request), version=version, key=key,
                            value=form.get("value", "")),
            f"Tag {key} of version {version} set.")


@action
def delete_version_tag(request: web.Request, form: dict[str, str]) -> tuple[c.Command, str]:
    version, key = _version(request, form), form.get("key", "")
    return (c.DeleteVersionTag(full_name=_name(request), version=version, key=key),
            f"Tag {key} of version {version} deleted.")


@action
def transition_stage(request: web.Request, form: dict[str, str]) -> tuple[c.Command, str]:
    version = _version(request, form)
    stage = _text(form, "stage")
    return (c.TransitionStage(full_name=_name(request), version=version, stage=stage,
                              archive_existing_versions=form.get("archive") == "on"),
            f"Version {version} moved to stage {stage}.")


@action
def request_transition(request: web.Request, form: dict[str, str]) -> tuple[c.Command, str]:
    version, stage = _version(request, form), _text(form, "stage")
    return (c.RequestTransition(full_name=_name(request), version=version, stage=stage,
                                comment=_optional(form, "comment")),
            f"Requested stage {stage} for version {version}.")


def _decision(kind: type[c.Command], verb: str) -> Build:
    def build(request: web.Request, form: dict[str, str]) -> tuple[c.Command, str]:
        version, stage = _version(request, form), request.match_info["stage"]
        extra = {"archive_existing_versions": form.get("archive") == "on"} \
            if kind is c.ApproveTransition else {}
        return (kind(full_name=_name(request), version=version, stage=stage,
                     comment=_optional(form, "comment"), **extra),
                f"Request for stage {stage} of version {version} {verb}.")

    return build


approve_transition = action(_decision(c.ApproveTransition, "approved"))
reject_transition = action(_decision(c.RejectTransition, "rejected"))
cancel_transition = action(_decision(c.CancelTransition, "cancelled"))
