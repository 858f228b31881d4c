"""Modelog's native API, `/api/modelog/v1/`: every command and query, history and `as_of`.

Views translate the wire format to commands and queries and nothing else.
"""

from typing import Any, TypeVar

from aiohttp import web

from registry.domain import commands as c
from registry.domain.errors import NotFound
from registry.domain.models import Model, ModelVersion
from registry.eventstore import chain, model_folds
from registry.http import authorize
from registry.http.dispatch import execute
from registry.http.keys import AS_OF_POSITION, POOL, SETTINGS
from registry.http.namespace_patch import patch_catalog, patch_schema
from registry.http.native.requests import (
    AliasBody,
    ApproveBody,
    AsOf,
    CatalogListQuery,
    CommentOnlyBody,
    CreateCatalogBody,
    CreateModelBody,
    CreateSchemaBody,
    DescriptionBody,
    FinalizeBody,
    Force,
    ModelListQuery,
    NamespacePatchBody,
    NoQuery,
    RegisterVersionBody,
    SchemaListQuery,
    StageBody,
    TagBody,
    TransitionRequestBody,
    UpdateModelBody,
    VerifyQuery,
    VersionPage,
)
from registry.http.native.shapes import catalog_json, event_json, model_json, schema_json, version_json
from registry.http.validation import changes, parse_body, parse_query, path_version
from registry.http.wire import json_response, listed
from registry.reads import queries
from registry.reads.search import ModelFilter

T = TypeVar("T")


# --- helpers ----------------------------------------------------------------------------------


async def _model(request: web.Request, full_name: str | None = None) -> Model:
    """The model by its current name, or as it was at `as_of`."""
    return await authorize.reader(request).model(full_name or request.match_info["full_name"],
                                                 await _at(request, request.query.get("as_of")))


async def _version(request: web.Request, model: Model) -> ModelVersion:
    return await authorize.reader(request).version(
        model, path_version(request), await _at(request, request.query.get("as_of")))


# --- catalogs and schemas ---------------------------------------------------------------------


async def create_catalog(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    body = await parse_body(request, CreateCatalogBody)
    await execute(request, c.CreateCatalog(name=body.name, comment=body.comment,
                                           properties=body.properties))
    return json_response(await _catalog(request, body.name), status=201)


async def _at(request: web.Request, when: str | None) -> int | None:
    """The position `when` names, resolved once per request: a model read at it and its
    versions read after must see the same point, however the head moves meanwhile."""
    if when is None:
        return None
    if AS_OF_POSITION not in request:
        request[AS_OF_POSITION] = await authorize.reader(request).point(when)
    return request[AS_OF_POSITION]


async def _catalog(request: web.Request, name: str, when: str | None = None) -> dict[str, Any]:
    reader = authorize.reader(request)
    return catalog_json(await reader.catalog(name, await _at(request, when)))


async def get_catalog(request: web.Request) -> web.Response:
    q = parse_query(request, AsOf)
    return json_response(await _catalog(request, request.match_info["name"], q.as_of))


async def list_catalogs(request: web.Request) -> web.Response:
    q = parse_query(request, CatalogListQuery)
    found = await authorize.reader(request).catalogs(
        await _at(request, q.as_of), after=queries.decode_token(q.page_token, str),
        limit=q.max_results)
    return json_response(listed(found, "catalogs", catalog_json))


async def update_catalog(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    body = await parse_body(request, NamespacePatchBody)
    name = request.match_info["name"]
    sent = changes(body, "comment", "properties", "new_name")
    target = await patch_catalog(request, name, sent)
    return json_response(await _catalog(request, target))


async def delete_catalog(request: web.Request) -> web.Response:
    q = parse_query(request, Force)
    await execute(request, c.DeleteCatalog(name=request.match_info["name"], force=q.force))
    return json_response({})


def _schema_name(request: web.Request) -> tuple[str, str]:
    full = request.match_info["full_name"]
    catalog, dot, name = full.partition(".")
    if not dot or "." in name:
        raise NotFound(f"schema {full!r} does not exist: expected catalog.schema", schema=full)
    return catalog, name


async def _schema(request: web.Request, catalog: str, name: str,
                  when: str | None = None) -> dict[str, Any]:
    reader = authorize.reader(request)
    return schema_json(await reader.schema(catalog, name, await _at(request, when)))


async def create_schema(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    body = await parse_body(request, CreateSchemaBody)
    await execute(request, c.CreateSchema(catalog_name=body.catalog_name, name=body.name,
                                           comment=body.comment, properties=body.properties))
    return json_response(await _schema(request, body.catalog_name, body.name), status=201)


async def get_schema(request: web.Request) -> web.Response:
    q = parse_query(request, AsOf)
    return json_response(await _schema(request, *_schema_name(request), q.as_of))


async def list_schemas(request: web.Request) -> web.Response:
    q = parse_query(request, SchemaListQuery)
    found = await authorize.reader(request).schemas(
        q.catalog_name, await _at(request, q.as_of),
        after=queries.decode_token(q.page_token, str), limit=q.max_results)
    return json_response(listed(found, "schemas", schema_json))


async def update_schema(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    body = await parse_body(request, NamespacePatchBody)
    catalog, name = _schema_name(request)
    sent = changes(body, "comment", "properties", "new_name")
    target = await patch_schema(request, catalog, name, sent)
    return json_response(await _schema(request, catalog, target))


async def delete_schema(request: web.Request) -> web.Response:
    q = parse_query(request, Force)
    catalog, name = _schema_name(request)
    await execute(request, c.DeleteSchema(catalog_name=catalog, name=name, force=q.force))
    return json_response({})


# --- registered models ------------------------------------------------------------------------


async def create_model(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    body = await parse_body(request, CreateModelBody)
    cmd = c.CreateModel(full_name=body.name, description=body.description, tags=body.tags)
    await execute(request, cmd)
    return json_response(model_json(await _model(request, cmd.full_name)), status=201)


async def get_model(request: web.Request) -> web.Response:
    parse_query(request, AsOf)
    return json_response(model_json(await _model(request)))


async def list_models(request: web.Request) -> web.Response:
    q = parse_query(request, ModelListQuery)
    reader = authorize.reader(request)
    at = None if q.as_of is None else await reader.point(q.as_of)
    models = await reader.models(
        ModelFilter(catalog=q.catalog_name, schema=q.schema_name, name_pattern=q.name_pattern), at,
        after=queries.decode_token(q.page_token, str), limit=q.max_results)
    return json_response(listed(models, "registered_models", model_json))


async def update_model(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    body = await parse_body(request, UpdateModelBody)
    changes(body, "description", "new_name")
    name = request.match_info["full_name"]
    # Two commands: both are built (validated) before either runs, and the rename, which can be
    # refused (name taken, no such schema), runs first, so a refused PATCH appends nothing.
    rename = None
    if body.new_name is not None:
        rename = c.RenameModel(full_name=name, new_full_name=body.new_name)
        name = rename.new_full_name
    describe = None
    if "description" in body.model_fields_set:
        describe = c.UpdateModelDescription(full_name=name, description=body.description)
    for cmd in (rename, describe):
        if cmd is not None:
            await execute(request, cmd)
    return json_response(model_json(await _model(request, name)))


async def delete_model(request: web.Request) -> web.Response:
    q = parse_query(request, Force)
    await execute(request, c.DeleteModel(full_name=request.match_info["full_name"],
                                          force=q.force))
    return json_response({})


async def set_model_tag(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    body = await parse_body(request, TagBody)
    name = request.match_info["full_name"]
    await execute(request, c.SetModelTag(full_name=name, key=request.match_info["key"],
                                          value=body.value))
    return json_response(model_json(await _model(request, name)))


async def delete_model_tag(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    name = request.match_info["full_name"]
    await execute(request, c.DeleteModelTag(full_name=name, key=request.match_info["key"]))
    return json_response(model_json(await _model(request, name)))


async def model_history(request: web.Request) -> web.Response:
    q = parse_query(request, VersionPage)
    model = await _model(request)
    found = await authorize.reader(request).events(
        model, await _at(request, q.as_of), after=queries.decode_token(q.page_token, int) or 0,
        limit=q.max_results)
    return json_response(listed(found, "events", event_json))


# --- versions ---------------------------------------------------------------------------------


async def register_version(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    body = await parse_body(request, RegisterVersionBody)
    name = request.match_info["full_name"]
    outcome = await execute(request, c.RegisterVersion(
        full_name=name, storage_root=request.config_dict[SETTINGS].artifacts, **body.model_dump()))
    number = outcome.version
    model = await _model(request, name)
    mv = await authorize.reader(request).version(model, number, missing=NotFound(
        f"model version {model.full_name} was deleted meanwhile"))  # between write and read
    return json_response(version_json(model, mv), status=201)


async def get_version(request: web.Request) -> web.Response:
    parse_query(request, AsOf)
    model = await _model(request)
    return json_response(version_json(model, await _version(request, model)))


async def list_versions(request: web.Request) -> web.Response:
    q = parse_query(request, VersionPage)
    model = await _model(request)
    found = await authorize.reader(request).versions(
        model, await _at(request, q.as_of), after=queries.decode_token(q.page_token, int),
        limit=q.max_results)
    return json_response(listed(found, "model_versions", lambda mv: version_json(model, mv)))


async def _version_command(request: web.Request, cmd: c.Command) -> web.Response:
    await execute(request, cmd)
    model = await _model(request)
    return json_response(version_json(model, await _version(request, model)))


def _version_args(request: web.Request) -> dict[str, Any]:
    return {"full_name": request.match_info["full_name"], "version": path_version(request)}


async def finalize_version(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    body = await parse_body(request, FinalizeBody)
    return await _version_command(request, c.FinalizeVersion(
        **_version_args(request), status=body.status, status_message=body.status_message))


async def update_version(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    body = await parse_body(request, DescriptionBody)
    return await _version_command(request, c.UpdateVersionDescription(
        **_version_args(request), description=body.description))


async def set_version_tag(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    body = await parse_body(request, TagBody)
    return await _version_command(request, c.SetVersionTag(
        **_version_args(request), key=request.match_info["key"], value=body.value))


async def delete_version_tag(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    return await _version_command(request, c.DeleteVersionTag(
        **_version_args(request), key=request.match_info["key"]))


async def delete_version(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    await execute(request, c.DeleteVersion(**_version_args(request)))
    return json_response({})


# --- stages and transition requests (as the Databricks workspace registry has them) -------------


async def transition_stage(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    body = await parse_body(request, StageBody)
    return await _version_command(request, c.TransitionStage(
        **_version_args(request), stage=body.stage,
        archive_existing_versions=body.archive_existing_versions))


async def request_transition(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    body = await parse_body(request, TransitionRequestBody)
    await execute(request, c.RequestTransition(**_version_args(request), stage=body.stage,
                                               comment=body.comment))
    model = await _model(request)
    return json_response(version_json(model, await _version(request, model)), status=201)


async def approve_transition(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    body = await parse_body(request, ApproveBody)
    return await _version_command(request, c.ApproveTransition(
        **_version_args(request), stage=request.match_info["stage"], comment=body.comment,
        archive_existing_versions=body.archive_existing_versions))


async def reject_transition(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    body = await parse_body(request, CommentOnlyBody)
    return await _version_command(request, c.RejectTransition(
        **_version_args(request), stage=request.match_info["stage"], comment=body.comment))


async def cancel_transition(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    body = await parse_body(request, CommentOnlyBody)
    return await _version_command(request, c.CancelTransition(
        **_version_args(request), stage=request.match_info["stage"], comment=body.comment))


# --- aliases ----------------------------------------------------------------------------------


async def set_alias(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    body = await parse_body(request, AliasBody)
    name, alias = request.match_info["full_name"], request.match_info["alias"]
    await execute(request, c.SetAlias(full_name=name, alias=alias, version=body.version))
    model = await _model(request, name)
    mv = await authorize.reader(request).version(model, body.version, missing=NotFound(
        f"model version {model.full_name} was deleted meanwhile"))  # between write and read
    return json_response(version_json(model, mv))


async def get_alias(request: web.Request) -> web.Response:
    parse_query(request, AsOf)
    model = await _model(request)
    alias = request.match_info["alias"]
    number = model.aliases.get(alias)
    if number is None:
        raise NotFound(f"registered model {model.full_name!r} has no alias {alias!r}",
                       model=model.full_name, alias=alias)
    mv = await authorize.reader(request).version(
        model, number, await _at(request, request.query.get("as_of")),
        missing=NotFound(f"alias {alias!r} points at a version that no longer exists"))
    return json_response(version_json(model, mv))


async def delete_alias(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    await execute(request, c.DeleteAlias(full_name=request.match_info["full_name"],
                                          alias=request.match_info["alias"]))
    return json_response({})


async def audit_verify(request: web.Request) -> web.Response:
    q = parse_query(request, VerifyQuery)
    v = await chain.verify(request.config_dict[POOL])
    wrong = await model_folds.check_snapshots(request.config_dict[POOL]) if v.ok else []
    expected = {}
    if q.expect_head is not None:
        problem = await chain.holds_published(request.config_dict[POOL], q.expect_head)
        expected = {"expected_head_ok": problem is None, "expected_head_problem": problem}
    return json_response({**expected, "ok": v.ok, "count": v.count,
                          "head_position": v.head_position,
                          "head_hash": v.head_hash, "position": v.position,
                          "problem": v.problem, "snapshots_ok": v.ok and not wrong,
                          "snapshots_wrong": [{"stream_id": s, "position": p}
                                              for s, p in wrong]})


def add_routes(app: web.Application) -> None:
    m = "/models/{full_name}"
    v = f"{m}/versions/{{version}}"
    app.router.add_routes([
        web.get("/audit/verify", audit_verify),
        web.post("/catalogs", create_catalog),
        web.get("/catalogs", list_catalogs),
        web.get("/catalogs/{name}", get_catalog),
        web.patch("/catalogs/{name}", update_catalog),
        web.delete("/catalogs/{name}", delete_catalog),
        web.post("/schemas", create_schema),
        web.get("/schemas", list_schemas),
        web.get("/schemas/{full_name}", get_schema),
        web.patch("/schemas/{full_name}", update_schema),
        web.delete("/schemas/{full_name}", delete_schema),
        web.post("/models", create_model),
        web.get("/models", list_models),
        web.get(m, get_model),
        web.patch(m, update_model),
        web.delete(m, delete_model),
        web.get(f"{m}/history", model_history),
        web.put(f"{m}/tags/{{key}}", set_model_tag),
        web.delete(f"{m}/tags/{{key}}", delete_model_tag),
        web.post(f"{m}/versions", register_version),
        web.get(f"{m}/versions", list_versions),
        web.get(v, get_version),
        web.patch(v, update_version),
        web.delete(v, delete_version),
        web.post(f"{v}/finalize", finalize_version),
        web.put(f"{v}/tags/{{key}}", set_version_tag),
        web.delete(f"{v}/tags/{{key}}", delete_version_tag),
        web.post(f"{v}/stage", transition_stage),
        web.post(f"{v}/transition-requests", request_transition),
        web.post(f"{v}/transition-requests/{{stage}}/approve", approve_transition),
        web.post(f"{v}/transition-requests/{{stage}}/reject", reject_transition),
        web.delete(f"{v}/transition-requests/{{stage}}", cancel_transition),
        web.put(f"{m}/aliases/{{alias}}", set_alias),
        web.get(f"{m}/aliases/{{alias}}", get_alias),
        web.delete(f"{m}/aliases/{{alias}}", delete_alias),
    ])
