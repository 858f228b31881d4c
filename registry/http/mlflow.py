"""MLflow's Model Registry REST API (`/api/2.0/mlflow/`, `/ajax-api/2.0/mlflow/`), so that
`MlflowClient` with an `http://` registry URI works unchanged.

A model name without dots lives in the default schema (`unity.default` unless configured) and is
shown back without it; a three-level name is that securable. Versions registered here are READY
at once, as on MLflow's own server. Wire shapes follow MLflow's protobuf JSON: wrapped objects,
versions as strings, times in epoch milliseconds, unset fields left out.
"""

from typing import Any

import pydantic
from aiohttp import web

from registry.domain import commands as c
from registry.domain.errors import InvalidArgument, NotFound
from registry.domain.models import Model, ModelVersion
from registry.http import authorize, errors
from registry.http.dispatch import execute
from registry.http.keys import SETTINGS
from registry.http.mlflow_webhooks import add_routes as add_webhook_routes
from registry.http.surface import surface
from registry.http.validation import parse_body, parse_query
from registry.http.wire import epoch_ms, json_response
from registry.reads import queries

PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")
MAX_MODELS_PAGE = 1000
MAX_VERSIONS_PAGE = 10_000


# --- names ------------------------------------------------------------------------------------


def _default(request: web.Request) -> str:
    return request.config_dict[SETTINGS].default_schema


def full_name(request: web.Request, name: str) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidArgument("name must be a non-empty string", field="name")
    return name if "." in name else f"{_default(request)}.{name}"


def shown_name(request: web.Request, full: str) -> str:
    prefix = _default(request) + "."
    return full[len(prefix):] if full.startswith(prefix) else full


# --- wire shapes ------------------------------------------------------------------------------


def _set(out: dict[str, Any], **fields: Any) -> dict[str, Any]:
    out.update({k: v for k, v in fields.items() if v is not None})
    return out


def version_json(name: str, mv: ModelVersion, aliases: list[str]) -> dict[str, Any]:
    return _set(
        {"name": name, "version": str(mv.version), "creation_timestamp": epoch_ms(mv.created_at),
         "last_updated_timestamp": epoch_ms(mv.updated_at), "current_stage": mv.stage,
         "source": mv.source, "status": mv.status,
         "tags": [{"key": k, "value": v} for k, v in mv.tags.items()], "aliases": aliases},
        user_id=mv.created_by, description=mv.description, run_id=mv.run_id,
        status_message=mv.status_message, run_link=mv.run_link, model_id=mv.logged_model_id)


def model_json(name: str, m: Model, latest: list[ModelVersion]) -> dict[str, Any]:
    return _set(
        {"name": name, "creation_timestamp": epoch_ms(m.created_at),
         "last_updated_timestamp": epoch_ms(m.updated_at),
         "latest_versions": [version_json(name, mv, m.aliases_of(mv.version)) for mv in latest],
         "tags": [{"key": k, "value": v} for k, v in m.tags.items()],
         "aliases": [{"alias": a, "version": str(v)} for a, v in sorted(m.aliases.items())]},
        user_id=m.created_by, description=m.description)


# --- requests ---------------------------------------------------------------------------------


class Body(pydantic.BaseModel):
    # Clients of other MLflow versions send fields we do not use (deployment_job_id, ...).
    model_config = pydantic.ConfigDict(extra="ignore")


class NameBody(Body):
    name: str


class CreateModelBody(NameBody):
    description: str | None = None
    tags: list[dict[str, str]] = []


class RenameBody(NameBody):
    new_name: str


class DescriptionBody(NameBody):
    description: str | None = None


class TagBody(NameBody):
    key: str
    value: str = ""


class KeyBody(NameBody):
    key: str


class AliasBody(NameBody):
    alias: str


class SetAliasBody(AliasBody):
    version: str | int


class VersionBody(NameBody):
    version: str | int


class CreateVersionBody(NameBody):
    source: str
    run_id: str | None = None
    run_link: str | None = None
    description: str | None = None
    tags: list[dict[str, str]] = []
    model_id: str | None = None


class VersionDescriptionBody(VersionBody):
    description: str | None = None


class VersionTagBody(VersionBody):
    key: str
    value: str = ""


class VersionKeyBody(VersionBody):
    key: str


class TransitionBody(VersionBody):
    stage: str
    archive_existing_versions: bool = False


class LatestBody(NameBody):
    stages: list[str] = []


def _tags(items: list[dict[str, str]]) -> dict[str, str]:
    out = {}
    for item in items:
        if "key" not in item:
            raise InvalidArgument("every tag needs a key", field="tags")
        out[item["key"]] = item.get("value", "")
    return out


def _version(value: str | int) -> int:
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= queries.MAX_INT:
        raise InvalidArgument(f"version must be a positive whole number, not {value!r}",
                              field="version")
    return int(text)


# --- reads ------------------------------------------------------------------------------------


async def _model(request: web.Request, name: str) -> Model:
    return await authorize.reader(request).model(
        full_name(request, name),
        missing=NotFound(f"Registered Model with name={name} not found", model=name))


async def _model_response(request: web.Request, name: str) -> dict[str, Any]:
    model = await _model(request, name)
    latest = await authorize.reader(request).latest_versions([model])
    return model_json(shown_name(request, model.full_name), model, latest[model.id])


async def _version_response(request: web.Request, name: str, version: int) -> dict[str, Any]:
    model = await _model(request, name)
    mv = await authorize.reader(request).version(model, version, missing=NotFound(
        f"Model Version (name={name}, version={version}) not found", model=name, version=version))
    return version_json(shown_name(request, model.full_name), mv, model.aliases_of(version))


def _json(**body: Any) -> web.Response:
    return json_response(body)


# --- registered models ------------------------------------------------------------------------


async def create_model(request: web.Request) -> web.Response:
    body = await parse_body(request, CreateModelBody)
    full = full_name(request, body.name)
    await execute(request, c.CreateModel(full_name=full, description=body.description,
                                          tags=_tags(body.tags)))
    return _json(registered_model=await _model_response(request, body.name))


async def get_model(request: web.Request) -> web.Response:
    q = parse_query(request, NameBody)
    return _json(registered_model=await _model_response(request, q.name))


async def rename_model(request: web.Request) -> web.Response:
    body = await parse_body(request, RenameBody)
    await execute(request, c.RenameModel(full_name=full_name(request, body.name),
                                          new_full_name=full_name(request, body.new_name)))
    return _json(registered_model=await _model_response(request, body.new_name))


async def update_model(request: web.Request) -> web.Response:
    body = await parse_body(request, DescriptionBody)
    await execute(request, c.UpdateModelDescription(full_name=full_name(request, body.name),
                                                     description=body.description))
    return _json(registered_model=await _model_response(request, body.name))


async def delete_model(request: web.Request) -> web.Response:
    body = await parse_body(request, NameBody)
    # MLflow deletes a model with all its versions.
    await execute(request, c.DeleteModel(full_name=full_name(request, body.name), force=True))
    return _json()


async def set_model_tag(request: web.Request) -> web.Response:
    body = await parse_body(request, TagBody)
    await execute(request, c.SetModelTag(full_name=full_name(request, body.name), key=body.key,
                                          value=body.value))
    return _json()


async def delete_model_tag(request: web.Request) -> web.Response:
    body = await parse_body(request, KeyBody)
    await execute(request, c.DeleteModelTag(full_name=full_name(request, body.name),
                                             key=body.key))
    return _json()


class SearchQuery(Body):
    filter: str | None = None
    max_results: int = pydantic.Field(100, ge=1)
    order_by: list[str] = []
    page_token: str | None = None


async def search_models(request: web.Request) -> web.Response:
    q = parse_query(request, SearchQuery, ("order_by",))
    models, token = await authorize.reader(request).mlflow_models(
        _default(request), q.filter, q.order_by, q.page_token, min(q.max_results, MAX_MODELS_PAGE))
    latest = await authorize.reader(request).latest_versions(models)
    out: dict[str, Any] = {"registered_models": [
        model_json(shown_name(request, m.full_name), m, latest[m.id]) for m in models]}
    if token:
        out["next_page_token"] = token
    return json_response(out)


async def get_latest_versions(request: web.Request) -> web.Response:
    if request.method == "GET":
        body = parse_query(request, LatestBody, ("stages",))
    else:
        body = await parse_body(request, LatestBody)
    model = await _model(request, body.name)
    latest = (await authorize.reader(request).latest_versions([model]))[model.id]
    wanted = {st.lower() for st in body.stages}
    name = shown_name(request, model.full_name)
    return _json(model_versions=[version_json(name, mv, model.aliases_of(mv.version))
                                 for mv in latest if not wanted or mv.stage.lower() in wanted])


# --- model versions ---------------------------------------------------------------------------


async def create_version(request: web.Request) -> web.Response:
    body = await parse_body(request, CreateVersionBody)
    outcome = await execute(request, c.RegisterVersion(
        full_name=full_name(request, body.name), source=body.source, run_id=body.run_id or None,
        run_link=body.run_link or None, description=body.description, tags=_tags(body.tags),
        logged_model_id=body.model_id or None, ready=True))
    number = outcome.version
    model = outcome.model  # as committed: no need to read it back
    assert model is not None
    return _json(model_version=version_json(shown_name(request, model.full_name),
                                            model.versions[number], model.aliases_of(number)))


async def get_version(request: web.Request) -> web.Response:
    q = parse_query(request, VersionBody)
    return _json(model_version=await _version_response(request, q.name, _version(q.version)))


async def update_version(request: web.Request) -> web.Response:
    body = await parse_body(request, VersionDescriptionBody)
    version = _version(body.version)
    await execute(request, c.UpdateVersionDescription(
        full_name=full_name(request, body.name), version=version, description=body.description))
    return _json(model_version=await _version_response(request, body.name, version))


async def delete_version(request: web.Request) -> web.Response:
    body = await parse_body(request, VersionBody)
    await execute(request, c.DeleteVersion(full_name=full_name(request, body.name),
                                            version=_version(body.version)))
    return _json()


async def transition_stage(request: web.Request) -> web.Response:
    body = await parse_body(request, TransitionBody)
    version = _version(body.version)
    await execute(request, c.TransitionStage(
        full_name=full_name(request, body.name), version=version, stage=body.stage,
        archive_existing_versions=body.archive_existing_versions))
    return _json(model_version=await _version_response(request, body.name, version))


async def set_version_tag(request: web.Request) -> web.Response:
    body = await parse_body(request, VersionTagBody)
    await execute(request, c.SetVersionTag(full_name=full_name(request, body.name),
                                            version=_version(body.version), key=body.key,
                                            value=body.value))
    return _json()


async def delete_version_tag(request: web.Request) -> web.Response:
    body = await parse_body(request, VersionKeyBody)
    await execute(request, c.DeleteVersionTag(full_name=full_name(request, body.name),
                                               version=_version(body.version), key=body.key))
    return _json()


async def download_uri(request: web.Request) -> web.Response:
    q = parse_query(request, VersionBody)
    version = _version(q.version)
    model = await _model(request, q.name)
    mv = await authorize.reader(request).version(model, version, missing=NotFound(
        f"Model Version (name={q.name}, version={version}) not found"))
    # The client resolves `models:/m-...` sources through its own tracking store.
    return _json(artifact_uri=mv.storage_location or mv.source)


class VersionSearchQuery(SearchQuery):
    max_results: int = pydantic.Field(10_000, ge=1)


async def search_versions(request: web.Request) -> web.Response:
    q = parse_query(request, VersionSearchQuery, ("order_by",))
    hits, token = await authorize.reader(request).mlflow_versions(
        _default(request), q.filter, q.order_by, q.page_token,
        min(q.max_results, MAX_VERSIONS_PAGE))
    out: dict[str, Any] = {"model_versions": [
        version_json(shown_name(request, h.full_name), h.version, h.aliases) for h in hits]}
    if token:
        out["next_page_token"] = token
    return json_response(out)


# --- aliases ----------------------------------------------------------------------------------


async def set_alias(request: web.Request) -> web.Response:
    body = await parse_body(request, SetAliasBody)
    await execute(request, c.SetAlias(full_name=full_name(request, body.name), alias=body.alias,
                                       version=_version(body.version)))
    return _json()


async def delete_alias(request: web.Request) -> web.Response:
    body = await parse_body(request, AliasBody)
    await execute(request, c.DeleteAlias(full_name=full_name(request, body.name),
                                          alias=body.alias))
    return _json()


async def get_by_alias(request: web.Request) -> web.Response:
    q = parse_query(request, AliasBody)
    found = await authorize.reader(request).version_by_alias(full_name(request, q.name), q.alias)
    if found is None:
        await _model(request, q.name)  # which is missing: the model, or the alias
        raise NotFound(f"Registered model alias {q.alias} not found.", model=q.name,
                       alias=q.alias)
    mv, aliases = found
    name = shown_name(request, full_name(request, q.name))
    return _json(model_version=version_json(name, mv, aliases))


def create_app() -> web.Application:
    """One of these under each of MLflow's prefixes, `PREFIXES`."""
    app = surface(errors.mlflow_response)
    rm, mv = "/registered-models", "/model-versions"
    app.router.add_routes([
        web.post(f"{rm}/create", create_model),
        web.get(f"{rm}/get", get_model),
        web.post(f"{rm}/rename", rename_model),
        web.patch(f"{rm}/update", update_model),
        web.delete(f"{rm}/delete", delete_model),
        web.get(f"{rm}/search", search_models),
        web.post(f"{rm}/get-latest-versions", get_latest_versions),
        web.get(f"{rm}/get-latest-versions", get_latest_versions),
        web.post(f"{rm}/set-tag", set_model_tag),
        web.delete(f"{rm}/delete-tag", delete_model_tag),
        web.post(f"{rm}/alias", set_alias),
        web.delete(f"{rm}/alias", delete_alias),
        web.get(f"{rm}/alias", get_by_alias),
        web.post(f"{mv}/create", create_version),
        web.get(f"{mv}/get", get_version),
        web.patch(f"{mv}/update", update_version),
        web.delete(f"{mv}/delete", delete_version),
        web.get(f"{mv}/search", search_versions),
        web.post(f"{mv}/transition-stage", transition_stage),
        web.get(f"{mv}/get-download-uri", download_uri),
        web.post(f"{mv}/set-tag", set_version_tag),
        web.delete(f"{mv}/delete-tag", delete_version_tag),
    ])
    add_webhook_routes(app)
    return app
