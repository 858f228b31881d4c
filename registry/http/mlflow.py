"""MLflow's Model Registry REST API (`/api/2.0/mlflow/`, `/ajax-api/2.0/mlflow/`), so that
`MlflowClient` with an `http://` registry URI works unchanged.

MLflow's registry is flat: every name, dotted or not, is a model of the workspace schema
(`unity.default` unless configured) and is shown back byte for byte; models of other schemas are
reached through Unity Catalog (`uc:` URIs) or the native API. Versions registered here are READY
at once, as on MLflow's own server. Wire shapes follow MLflow's protobuf JSON: wrapped objects,
versions as strings, times in epoch milliseconds, unset fields left out.
"""

import re
from collections.abc import Callable
from typing import Any

import pydantic
from aiohttp import web

from registry.domain import commands as c
from registry.domain import names, sources
from registry.domain.errors import InvalidArgument, NotFound
from registry.domain.models import Model, ModelVersion
from registry.http import authorize, mlflow_errors
from registry.http.dispatch import execute
from registry.http.keys import SETTINGS, TRACKING
from registry.http.mlflow_webhooks import add_routes as add_webhook_routes
from registry.http.surface import surface
from registry.http.tracking_server import Lineage
from registry.http.validation import parse_body, parse_query
from registry.http.wire import epoch_ms, json_response
from registry.reads import queries

PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")
MAX_MODELS = 1000  # the most max_results MLflow's server takes
MAX_VERSIONS = 200_000
MAX_VERSIONS_PAGE = 10_000
PROMPT_TAG = "mlflow.prompt.is_prompt"


# --- names ------------------------------------------------------------------------------------


def _workspace(request: web.Request) -> str:
    return request.config_dict[SETTINGS].default_schema


def full_name(request: web.Request, name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgument(f"Missing value for required parameter 'name'. {mlflow_errors.SEE_DOCS}",
                              field="name")
    return names.workspace_model(_workspace(request), name)


def shown_name(request: web.Request, full: str) -> str:
    shown = names.workspace_name(_workspace(request), full)
    assert shown is not None, "only workspace models are read through MLflow's surface"
    return shown


# --- wire shapes ------------------------------------------------------------------------------


def _set(out: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """Protobuf's JSON: unset fields and empty lists are left out."""
    out.update({k: v for k, v in fields.items() if v is not None and v != []})
    return out


def version_json(name: str, mv: ModelVersion, aliases: list[str]) -> dict[str, Any]:
    # MLflow's server always sets description, run_id and run_link, empty when there are none.
    return _set(
        {"name": name, "version": str(mv.version), "creation_timestamp": epoch_ms(mv.created_at),
         "last_updated_timestamp": epoch_ms(mv.updated_at), "current_stage": mv.stage,
         "description": mv.description or "", "source": mv.source, "run_id": mv.run_id or "",
         "status": mv.status, "run_link": mv.run_link or ""},
        tags=[{"key": k, "value": v} for k, v in mv.tags.items()], aliases=aliases,
        user_id=mv.created_by, status_message=mv.status_message, model_id=mv.logged_model_id)


def model_json(name: str, m: Model, latest: list[ModelVersion]) -> dict[str, Any]:
    return _set(
        {"name": name, "creation_timestamp": epoch_ms(m.created_at),
         "last_updated_timestamp": epoch_ms(m.updated_at)},
        description=m.description,
        # As MLflow's server: versions within a model, or found by a search, list no aliases.
        latest_versions=[version_json(name, mv, []) for mv in latest],
        tags=[{"key": k, "value": v} for k, v in m.tags.items()],
        aliases=[{"alias": a, "version": str(v)} for a, v in sorted(m.aliases.items())],
        user_id=m.created_by)


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
    """A version number as MLflow takes it: any integer (one that no version has is not found)."""
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?[0-9]+", text):  # ASCII digits: no look-alike digits
        raise InvalidArgument(f"Parameter 'version' must be an integer, got '{value}'.",
                              field="version")
    number = int(text)
    return number if 1 <= number <= queries.MAX_INT else 0  # 0: no version has it


def _version_missing(request: web.Request, name: str, version: int | str) -> NotFound:
    return NotFound(f"Model Version (name={name}, version={version}) not found",
                    model=full_name(request, name), version=version)


# --- reads ------------------------------------------------------------------------------------


async def _model(request: web.Request, name: str, missing: NotFound | None = None) -> Model:
    full = full_name(request, name)
    return await authorize.reader(request).model(
        full, missing=missing or NotFound(f"Registered Model with name={name} not found",
                                          model=full))


async def _model_response(request: web.Request, name: str) -> dict[str, Any]:
    model = await _model(request, name)
    latest = await authorize.reader(request).latest_versions([model])
    return model_json(shown_name(request, model.full_name), model, latest[model.id])


async def _model_version(request: web.Request, name: str, version: int | str
                         ) -> tuple[Model, ModelVersion]:
    # MLflow looks versions up by name and number: a missing model is a missing version.
    missing = _version_missing(request, name, version)
    model = await _model(request, name, missing)
    number = _version(version)
    return model, await authorize.reader(request).version(model, number, missing=missing)


async def _version_response(request: web.Request, name: str, version: int | str
                            ) -> dict[str, Any]:
    model, mv = await _model_version(request, name, version)
    return version_json(shown_name(request, model.full_name), mv, model.aliases_of(mv.version))


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
    await _unless_already_gone(request, c.DeleteModelTag(
        full_name=full_name(request, body.name), key=body.key), "key")
    return _json()


async def _unless_already_gone(request: web.Request, cmd: c.Command, what: str) -> None:
    """MLflow deletes a tag or an alias that is not there without a word (and appends nothing)."""
    try:
        await execute(request, cmd)
    except NotFound as exc:
        if what not in exc.details:
            raise


class SearchQuery(Body):
    filter: str | None = None
    max_results: int = 100
    order_by: list[str] = []
    page_token: str | None = None


def _page_size(q: SearchQuery, most: int, page: int) -> int:
    """MLflow's bounds on max_results; pages beyond `page` rows are cut (with a page token), so a
    request's memory does not grow with what it asks for."""
    if q.max_results < 1:
        raise InvalidArgument("Invalid value for max_results. It must be a positive integer, "
                              f"but got {q.max_results}", field="max_results")
    if q.max_results > most:
        raise InvalidArgument(f"Invalid value \"{q.max_results}\" for parameter 'max_results' "
                              f"supplied:  Hint: Value was of type 'str'. {mlflow_errors.SEE_DOCS}",
                              field="max_results")
    return min(q.max_results, page)


async def search_models(request: web.Request) -> web.Response:
    q = parse_query(request, SearchQuery, ("order_by",))
    models, token = await authorize.reader(request).mlflow_models(
        _workspace(request), q.filter, q.order_by, q.page_token, _page_size(q, MAX_MODELS, MAX_MODELS))
    latest = await authorize.reader(request).latest_versions(models)
    # MLflow's server lists a found model's latest versions by stage name (from the window
    # query it runs for the page), a fetched model's in the order its versions reached them.
    out: dict[str, Any] = {"registered_models": await queries.in_slices(models, lambda m: (
        model_json(shown_name(request, m.full_name), m, sorted(latest[m.id], key=_stage))))}
    if token:
        out["next_page_token"] = token
    return json_response(out)


def _stage(mv: ModelVersion) -> str:
    return mv.stage


async def get_latest_versions(request: web.Request) -> web.Response:
    if request.method == "GET":
        body = parse_query(request, LatestBody, ("stages",))
    else:
        body = await parse_body(request, LatestBody)
    for stage in body.stages:
        if stage.lower() not in {s.lower() for s in names.STAGES}:
            raise InvalidArgument(f"Invalid Model Version stage: {stage}. Value must be one of "
                                  f"{', '.join(names.STAGES)}.", field="stages")
    model = await _model(request, body.name)
    latest = (await authorize.reader(request).latest_versions([model]))[model.id]
    wanted = {st.lower() for st in body.stages}
    name = shown_name(request, model.full_name)
    return _json(model_versions=[version_json(name, mv, model.aliases_of(mv.version))
                                 for mv in latest if not wanted or mv.stage.lower() in wanted])


# --- model versions ---------------------------------------------------------------------------


async def create_version(request: web.Request) -> web.Response:
    body = await parse_body(request, CreateVersionBody)
    tags = _tags(body.tags)
    source, run_id, model_id = body.source, body.run_id or None, body.model_id or None
    run_link, files_at = body.run_link or None, None
    if tags.get(PROMPT_TAG, "false").lower() == "true":
        if source not in sources.PROMPT_PLACEHOLDERS:
            raise InvalidArgument(f"Invalid prompt source: '{source}'. Prompt sources must use "
                                  "an MLflow placeholder.", field="source")
    else:
        reference = sources.parse_reference(source)
        if reference is not None and reference.name is not None:
            source, run_id, model_id, files_at = await _copy_of(request, reference, body)
        lineage = await _lineage(request, run_id, model_id)
        if lineage is not None:
            run_id, run_link = run_id or lineage.run_id, run_link or lineage.run_link
            if model_id and reference is not None and reference.model_id == model_id:
                files_at = lineage.artifacts  # as MLflow: a logged model's files are its own
        sources.check(source, run_id, model_id, lineage.artifacts if lineage else None)
    outcome = await execute(request, c.RegisterVersion(
        full_name=full_name(request, body.name), source=source, run_id=run_id,
        run_link=run_link, description=body.description, tags=tags,
        logged_model_id=model_id, files_at=files_at, ready=True))
    number = outcome.version
    model = outcome.model  # as committed: no need to read it back
    assert model is not None
    return _json(model_version=version_json(shown_name(request, model.full_name),
                                            model.versions[number], model.aliases_of(number)))


async def _lineage(request: web.Request, run_id: str | None, model_id: str | None
                   ) -> Lineage | None:
    """The run or logged model a registration names, as the tracking server knows it, if the
    server was given one (`--tracking-uri`)."""
    tracking = request.config_dict.get(TRACKING)
    if tracking is None:
        return None
    if model_id:
        return await tracking.logged_model(model_id)
    return await tracking.run(run_id) if run_id else None


async def _copy_of(request: web.Request, ref: sources.Reference, body: "CreateVersionBody"
                   ) -> tuple[str, str | None, str | None, str]:
    """A source naming a registered version (`models:/name/3`, `@alias`, `/Production`,
    `/latest`), as MLflow's server takes it: the version it means, pinned by number, whose run
    and logged model the copy inherits, and whose files it uses."""
    assert ref.name is not None
    model = await _model(request, ref.name)
    if model.tags.get(PROMPT_TAG, "false").lower() == "true":
        raise InvalidArgument(f"Invalid model version source: '{body.source}'. Prompt versions "
                              "cannot be used as model version sources.", field="source")
    if ref.version is not None:
        number = ref.version
    elif ref.alias is not None:
        if ref.alias not in model.aliases:
            raise InvalidArgument(f"Registered model alias {ref.alias} not found.", field="source")
        number = model.aliases[ref.alias]
    else:
        latest = (await authorize.reader(request).latest_versions([model]))[model.id]
        if ref.stage is not None:
            latest = [mv for mv in latest if mv.stage.lower() == ref.stage.lower()]
        if not latest:
            stage = "" if ref.stage is None else f" and stage '{ref.stage}'"
            raise NotFound(f"No versions of model with name '{ref.name}'{stage} found")
        number = max(mv.version for mv in latest)
    mv = await authorize.reader(request).version(
        model, number, missing=_version_missing(request, ref.name, number))
    sent = body.model_fields_set
    if ("run_id" in sent and (body.run_id or "") != (mv.run_id or "")) or \
            ("model_id" in sent and (body.model_id or "") != (mv.logged_model_id or "")):
        raise InvalidArgument(f"Invalid model version source: '{body.source}'. The run_id and "
                              "model_id request parameters must match the referenced model "
                              "version.", field="source")
    return (f"models:/{ref.name}/{number}",
            body.run_id or None if "run_id" in sent else mv.run_id,
            body.model_id or None if "model_id" in sent else mv.logged_model_id,
            mv.storage_location or mv.source)


async def get_version(request: web.Request) -> web.Response:
    q = parse_query(request, VersionBody)
    return _json(model_version=await _version_response(request, q.name, q.version))


async def _on_version(request: web.Request, name: str, version: str | int,
                      command: Callable[[str, int], c.Command], gone_ok: str | None = None
                      ) -> None:
    """Run a command on a version, worded as MLflow words it: a version of a missing model, or
    a number no version has, is a missing version."""
    number, missing = _version(version), _version_missing(request, name, version)
    if number == 0:
        raise missing
    try:
        await execute(request, command(full_name(request, name), number))
    except NotFound as exc:
        if gone_ok is not None and gone_ok in exc.details:
            return
        if not {"version", "key", "alias", "stage"} & exc.details.keys():
            raise missing from None
        raise


async def update_version(request: web.Request) -> web.Response:
    body = await parse_body(request, VersionDescriptionBody)
    await _on_version(request, body.name, body.version, lambda full, n: c.UpdateVersionDescription(
        full_name=full, version=n, description=body.description))
    return _json(model_version=await _version_response(request, body.name, body.version))


async def delete_version(request: web.Request) -> web.Response:
    body = await parse_body(request, VersionBody)
    await _on_version(request, body.name, body.version,
                      lambda full, n: c.DeleteVersion(full_name=full, version=n))
    return _json()


async def transition_stage(request: web.Request) -> web.Response:
    body = await parse_body(request, TransitionBody)
    stage = next((s for s in names.STAGES if s.lower() == body.stage.lower()), None)
    if stage is None:
        raise InvalidArgument(f"Invalid Model Version stage: {body.stage}. Value must be one of "
                              f"{', '.join(names.STAGES)}.", field="stage")
    await _on_version(request, body.name, body.version, lambda full, n: c.TransitionStage(
        full_name=full, version=n, stage=stage,
        archive_existing_versions=body.archive_existing_versions))
    return _json(model_version=await _version_response(request, body.name, body.version))


async def set_version_tag(request: web.Request) -> web.Response:
    body = await parse_body(request, VersionTagBody)
    await _on_version(request, body.name, body.version, lambda full, n: c.SetVersionTag(
        full_name=full, version=n, key=body.key, value=body.value))
    return _json()


async def delete_version_tag(request: web.Request) -> web.Response:
    body = await parse_body(request, VersionKeyBody)
    await _on_version(request, body.name, body.version, lambda full, n: c.DeleteVersionTag(
        full_name=full, version=n, key=body.key), gone_ok="key")
    return _json()


async def download_uri(request: web.Request) -> web.Response:
    q = parse_query(request, VersionBody)
    _, mv = await _model_version(request, q.name, q.version)
    # A copy's files are the original's; `models:/m-...` sources the client resolves itself.
    return _json(artifact_uri=mv.storage_location or mv.source)


class VersionSearchQuery(SearchQuery):
    max_results: int = 10_000


async def search_versions(request: web.Request) -> web.Response:
    q = parse_query(request, VersionSearchQuery, ("order_by",))
    hits, token = await authorize.reader(request).mlflow_versions(
        _workspace(request), q.filter, q.order_by, q.page_token,
        _page_size(q, MAX_VERSIONS, MAX_VERSIONS_PAGE))
    out: dict[str, Any] = {"model_versions": await queries.in_slices(
        hits, lambda hit: version_json(shown_name(request, hit[0]), hit[1], []))}
    if token:
        out["next_page_token"] = token
    return json_response(out)


# --- aliases ----------------------------------------------------------------------------------


def _alias(alias: str) -> str:
    """MLflow's own wording for the aliases it reserves."""
    if alias.lower() == "latest":
        raise InvalidArgument("'latest' alias name (case insensitive) is reserved.", field="alias")
    if re.fullmatch(r"[vV]\d+", alias):
        raise InvalidArgument(f"Version alias name '{alias}' is reserved.", field="alias")
    return alias


async def set_alias(request: web.Request) -> web.Response:
    body = await parse_body(request, SetAliasBody)
    alias = _alias(body.alias)
    await _on_version(request, body.name, body.version,
                      lambda full, n: c.SetAlias(full_name=full, alias=alias, version=n))
    return _json()


async def delete_alias(request: web.Request) -> web.Response:
    body = await parse_body(request, AliasBody)
    await _unless_already_gone(request, c.DeleteAlias(full_name=full_name(request, body.name),
                                                      alias=body.alias), "alias")
    return _json()


async def get_by_alias(request: web.Request) -> web.Response:
    q = parse_query(request, AliasBody)
    name = q.name
    if q.alias.lower() == "latest":  # the reserved alias: the highest version
        model = await _model(request, name)
        latest = (await authorize.reader(request).latest_versions([model]))[model.id]
        if not latest:
            raise NotFound(f"Latest version not found for model {name}.", alias=q.alias)
        mv = max(latest, key=lambda v: v.version)
        return _json(model_version=version_json(name, mv, model.aliases_of(mv.version)))
    found = await authorize.reader(request).version_by_alias(full_name(request, name), q.alias)
    if found is None:
        await _model(request, name)  # which is missing: the model, or the alias
        raise InvalidArgument(f"Registered model alias {q.alias} not found.", alias=q.alias)
    mv, aliases = found
    return _json(model_version=version_json(name, mv, aliases))


def create_app() -> web.Application:
    """One of these under each of MLflow's prefixes, `PREFIXES`."""
    app = surface(mlflow_errors.response)
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
