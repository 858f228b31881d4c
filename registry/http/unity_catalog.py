"""Unity Catalog's REST API, `/api/2.1/unity-catalog/`: what MLflow's `uc:` registry store and the
`unitycatalog-client` SDK call. Catalogs, schemas, registered models, model versions, aliases.

Answers are Unity Catalog's bare objects (not wrapped), versions are integers and times epoch
milliseconds. A version gets a folder of its own under the server's storage root, named by the
model's and the version's identity; the client writes its files there with the temporary
credentials it asks for (registry/storage/): none for a `file:` root, STS credentials scoped to the
folder for S3.
"""

from typing import Any, Literal, TypeVar

import pydantic
from aiohttp import web

from registry.domain import commands as c
from registry.domain import names
from registry.domain.catalogs import Catalog
from registry.domain.errors import InvalidArgument, NotFound
from registry.domain.models import Model, ModelVersion, model_location
from registry.domain.names import FullName
from registry.domain.privileges import Action
from registry.domain.schemas import Schema
from registry.http import authorize, permissions, uc_errors
from registry.http.dispatch import execute
from registry.http.keys import CREDENTIALS, PRINCIPAL, SETTINGS
from registry.http.namespace_patch import patch_catalog, patch_schema
from registry.http.surface import surface
from registry.http.validation import changes, parse_body, parse_query, path_version
from registry.http.wire import epoch_ms, json_response, listed
from registry.reads import queries
from registry.reads.search import ModelFilter
from registry.storage import credentials
from registry.storage.s3_policy import Access

PREFIX = "/api/2.1/unity-catalog"
MAX_PAGE = 1000


# --- wire shapes ------------------------------------------------------------------------------


def _audit(o: Any) -> dict[str, Any]:
    return {"created_at": epoch_ms(o.created_at), "created_by": o.created_by,
            "updated_at": epoch_ms(o.updated_at), "updated_by": o.updated_by}


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def catalog_json(cat: Catalog) -> dict[str, Any]:
    return _drop_none({"name": cat.name, "comment": cat.comment, "owner": cat.owner,
                       "id": str(cat.id), "properties": dict(cat.properties), **_audit(cat)})


def schema_json(s: Schema) -> dict[str, Any]:
    return _drop_none({"name": s.name, "catalog_name": s.catalog_name, "full_name": s.full_name,
                       "comment": s.comment, "owner": s.owner, "schema_id": str(s.id),
                       "properties": dict(s.properties), **_audit(s)})


def _alias_infos(m: Model, version: int | None = None) -> list[dict[str, Any]]:
    return [{"alias_name": a, "version_num": v, "catalog_name": m.catalog_name,
             "schema_name": m.schema_name, "model_name": m.name}
            for a, v in sorted(m.aliases.items()) if version is None or v == version]


def model_json(request: web.Request, m: Model) -> dict[str, Any]:
    root = request.config_dict[SETTINGS].artifacts
    return _drop_none({
        "name": m.name, "catalog_name": m.catalog_name, "schema_name": m.schema_name,
        "full_name": m.full_name, "comment": m.description, "owner": m.owner, "id": str(m.id),
        "storage_location": model_location(root, m.id),
        "aliases": _alias_infos(m),
        "tags": [{"key": k, "value": v} for k, v in m.tags.items()], **_audit(m)})


def version_json(m: Model, mv: ModelVersion) -> dict[str, Any]:
    return _drop_none({
        "model_name": m.name, "catalog_name": m.catalog_name, "schema_name": m.schema_name,
        "version": mv.version, "source": mv.source, "run_id": mv.run_id,
        "comment": mv.description, "status": mv.status,
        "storage_location": mv.storage_location, "id": f"{m.id}/{mv.version}",
        "model_id": mv.logged_model_id, "aliases": _alias_infos(m, mv.version),
        "tags": [{"key": k, "value": v} for k, v in mv.tags.items()], **_audit(mv)})


# --- requests ---------------------------------------------------------------------------------


class Body(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="ignore")  # SDKs send fields we do not use


class Query(Body):
    pass


class Page(Query):
    # Unity Catalog: 0 means the server's page size, more than it is clamped to it; int32.
    max_results: int = pydantic.Field(MAX_PAGE, ge=-(2**31), lt=2**31)
    page_token: str | None = None

    @property
    def limit(self) -> int:
        return min(self.max_results or MAX_PAGE, MAX_PAGE)

    def after(self, kind: type[str] | type[int]) -> Any:
        """Where the page starts: after the key in the token the previous page handed out."""
        try:
            return queries.decode_token(self.page_token, kind)
        except InvalidArgument:
            raise InvalidArgument(f"Invalid page token received: {self.page_token}",
                                  field="page_token") from None


P = TypeVar("P", bound=Page)


def _page(request: web.Request, model: type[P]) -> P:
    """A listing's query, refused in Unity Catalog's words where they are its own."""
    q = parse_query(request, model)
    if q.max_results < 0:
        raise InvalidArgument("maxResults must be greater than or equal to 0",
                              field="max_results")
    return q


class CatalogPage(Page):
    catalog_name: str


class ModelPage(Page):
    catalog_name: str | None = None
    schema_name: str | None = None


class Force(Query):
    force: bool = False


class CreateCatalogBody(Body):
    name: str
    comment: str | None = None
    properties: dict[str, str] = {}


class UpdateBody(Body):
    comment: str | None = None
    new_name: str | None = None
    properties: dict[str, str] | None = None


class CreateSchemaBody(Body):
    name: str
    catalog_name: str
    comment: str | None = None
    properties: dict[str, str] = {}


class CreateModelBody(Body):
    name: str
    catalog_name: str
    schema_name: str
    comment: str | None = None


class CreateVersionBody(Body):
    model_name: str
    catalog_name: str
    schema_name: str
    source: str
    run_id: str | None = None
    comment: str | None = None
    model_id: str | None = None


class CommentBody(Body):
    comment: str | None = None


class AliasBody(Body):
    version_num: int


class FinalizeBody(Body):
    full_name: str | None = None
    version: int | None = None


INT64 = 2**63  # Unity Catalog's version numbers are int64: anything wider is a bad request


class CredentialsBody(Body):
    catalog_name: str
    schema_name: str
    model_name: str
    version: int = pydantic.Field(ge=-INT64, lt=INT64)
    operation: Literal["READ_MODEL_VERSION", "READ_WRITE_MODEL_VERSION"]


# --- catalogs ---------------------------------------------------------------------------------


async def _catalog(request: web.Request, name: str) -> web.Response:
    cat = await authorize.reader(request).catalog(
        name, missing=NotFound(f"Catalog not found: {name}", catalog=name))
    return json_response(catalog_json(cat))


async def create_catalog(request: web.Request) -> web.Response:
    body = await parse_body(request, CreateCatalogBody)
    await execute(request, c.CreateCatalog(name=body.name, comment=body.comment,
                                           properties=body.properties))
    return await _catalog(request, body.name)


async def get_catalog(request: web.Request) -> web.Response:
    return await _catalog(request, request.match_info["name"])


async def list_catalogs(request: web.Request) -> web.Response:
    q = _page(request, Page)
    found = await authorize.reader(request).catalogs(
        after=q.after(str), limit=q.limit)
    return json_response(listed(found, "catalogs", catalog_json))


async def update_catalog(request: web.Request) -> web.Response:
    body = await parse_body(request, UpdateBody)
    sent = changes(body, "comment", "properties", "new_name")
    name = request.match_info["name"]
    target = await patch_catalog(request, name, sent)
    return await _catalog(request, target)


async def delete_catalog(request: web.Request) -> web.Response:
    q = parse_query(request, Force)
    await execute(request, c.DeleteCatalog(name=request.match_info["name"], force=q.force))
    return json_response({})


# --- schemas ----------------------------------------------------------------------------------


def _schema_parts(full: str) -> tuple[str, str]:
    catalog, dot, name = full.partition(".")
    if not dot or "." in name:
        raise NotFound(f"Schema not found: {full}", schema=full)
    return catalog, name


async def _schema(request: web.Request, catalog: str, name: str) -> web.Response:
    found = await authorize.reader(request).schema(
        catalog, name, missing=NotFound(f"Schema not found: {catalog}.{name}",
                                        schema=f"{catalog}.{name}"))
    return json_response(schema_json(found))


async def create_schema(request: web.Request) -> web.Response:
    body = await parse_body(request, CreateSchemaBody)
    await execute(request, c.CreateSchema(catalog_name=body.catalog_name, name=body.name,
                                          comment=body.comment, properties=body.properties))
    return await _schema(request, body.catalog_name, body.name)


async def get_schema(request: web.Request) -> web.Response:
    return await _schema(request, *_schema_parts(request.match_info["full_name"]))


async def list_schemas(request: web.Request) -> web.Response:
    q = _page(request, CatalogPage)
    found = await authorize.reader(request).schemas(
        q.catalog_name, after=q.after(str), limit=q.limit,
        missing=NotFound(f"Catalog not found: {q.catalog_name}", catalog=q.catalog_name))
    return json_response(listed(found, "schemas", schema_json))


async def update_schema(request: web.Request) -> web.Response:
    body = await parse_body(request, UpdateBody)
    sent = changes(body, "comment", "properties", "new_name")
    catalog, name = _schema_parts(request.match_info["full_name"])
    target = await patch_schema(request, catalog, name, sent)
    return await _schema(request, catalog, target)


async def delete_schema(request: web.Request) -> web.Response:
    q = parse_query(request, Force)
    catalog, name = _schema_parts(request.match_info["full_name"])
    await execute(request, c.DeleteSchema(catalog_name=catalog, name=name, force=q.force))
    return json_response({})


# --- registered models ------------------------------------------------------------------------


async def _model(request: web.Request, full_name: str | None = None) -> Model:
    full_name = full_name or request.match_info["full_name"]
    FullName.parse(full_name)  # as Unity Catalog: a malformed name is a bad request, not a miss
    return await authorize.reader(request).model(
        full_name, missing=NotFound(f"Registered model not found: {full_name}", model=full_name))


async def _require_schema(request: web.Request, catalog: str, schema: str) -> None:
    """Unity Catalog names the missing parent first (CATALOG_NOT_FOUND, SCHEMA_NOT_FOUND) when a
    request names a model by its catalog, schema and name."""
    # A malformed name is a 400 before anything is looked up.
    full = f"{names.identifier('catalog', catalog)}.{names.identifier('schema', schema)}"
    await authorize.reader(request).require_schema(
        catalog, schema,
        missing_catalog=NotFound(f"Catalog not found: {catalog}", catalog=catalog),
        missing_schema=NotFound(f"Schema not found: {full}", schema=full))


async def create_model(request: web.Request) -> web.Response:
    body = await parse_body(request, CreateModelBody)
    # Unity Catalog's names are identifiers; the registry holds more (MLflow's names).
    full = f"{body.catalog_name}.{body.schema_name}.{names.identifier('model', body.name)}"
    await execute(request, c.CreateModel(full_name=full, description=body.comment))
    return json_response(model_json(request, await _model(request, full)))


async def get_model(request: web.Request) -> web.Response:
    return json_response(model_json(request, await _model(request)))


async def list_models(request: web.Request) -> web.Response:
    q = _page(request, ModelPage)
    # As Unity Catalog's server has it: an empty name is no name.
    q.catalog_name, q.schema_name = q.catalog_name or None, q.schema_name or None
    if (q.catalog_name is None) != (q.schema_name is None):
        raise InvalidArgument("list models of a schema with both catalog_name and schema_name, "
                              "or of the whole metastore with neither", field="schema_name")
    reader = authorize.reader(request)
    if q.catalog_name is not None and q.schema_name is not None:
        await _require_schema(request, q.catalog_name, q.schema_name)
    models = await reader.models(
        ModelFilter(catalog=q.catalog_name, schema=q.schema_name),
        after=q.after(str), limit=q.limit)
    return json_response(listed(models, "registered_models", lambda m: model_json(request, m)))


async def update_model(request: web.Request) -> web.Response:
    body = await parse_body(request, UpdateBody)
    changes(body, "comment", "new_name")
    full = request.match_info["full_name"]
    commands: list[c.Command] = []
    if body.new_name is not None:  # Unity Catalog renames within the schema
        new = f"{FullName.parse(full).schema_full_name}.{names.identifier('model', body.new_name)}"
        commands.append(c.RenameModel(full_name=full, new_full_name=new))
        target = new
    else:
        target = full
    if "comment" in body.model_fields_set:
        commands.append(c.UpdateModelDescription(full_name=target, description=body.comment))
    for cmd in commands:
        await execute(request, cmd)
    return json_response(model_json(request, await _model(request, target)))


async def delete_model(request: web.Request) -> web.Response:
    q = parse_query(request, Force)
    await execute(request, c.DeleteModel(full_name=request.match_info["full_name"],
                                         force=q.force))
    return json_response({})


# --- model versions ---------------------------------------------------------------------------


async def _version(request: web.Request, model: Model, number: int) -> web.Response:
    mv = await authorize.reader(request).version(model, number, missing=NotFound(
        f"Model version not found: {model.full_name}/{number}"))
    return json_response(version_json(model, mv))


async def create_version(request: web.Request) -> web.Response:
    body = await parse_body(request, CreateVersionBody)
    await _require_schema(request, body.catalog_name, body.schema_name)
    full = f"{body.catalog_name}.{body.schema_name}.{body.model_name}"
    outcome = await execute(request, c.RegisterVersion(
        full_name=full, source=body.source, run_id=body.run_id or None,
        description=body.comment, logged_model_id=body.model_id or None,
        storage_root=request.config_dict[SETTINGS].artifacts))
    return await _version(request, await _model(request, full),
                          outcome.version)


async def get_version(request: web.Request) -> web.Response:
    return await _version(request, await _model(request), path_version(request))


async def list_versions(request: web.Request) -> web.Response:
    q = _page(request, Page)
    model = await _model(request)
    found = await authorize.reader(request).versions(
        model, after=q.after(int), limit=q.limit)
    return json_response(listed(found, "model_versions", lambda mv: version_json(model, mv)))


async def update_version(request: web.Request) -> web.Response:
    body = await parse_body(request, CommentBody)
    changes(body, "comment")  # as UC's server: an update with nothing to change is refused
    number = path_version(request)
    await execute(request, c.UpdateVersionDescription(
        full_name=request.match_info["full_name"], version=number, description=body.comment))
    return await _version(request, await _model(request), number)


async def finalize_version(request: web.Request) -> web.Response:
    """Unity Catalog's finalize: its body names the version, which must still be pending."""
    body = await parse_body(request, FinalizeBody)
    full, number = request.match_info["full_name"], path_version(request)
    if not body.full_name:
        raise InvalidArgument("No three tier full name specified.", field="full_name")
    if body.version is None:
        raise InvalidArgument("No version specified.", field="version")
    if (body.full_name, body.version) != (full, number):
        raise InvalidArgument(f"the body names {body.full_name}/{body.version}, the path "
                              f"{full}/{number}", field="full_name")
    model = await _model(request)
    mv = await authorize.reader(request).version(model, number, missing=NotFound(
        f"Model version not found: {full}/{number}", model=full, version=number))
    if mv.status != "PENDING_REGISTRATION":
        raise InvalidArgument(
            f"Model version not in a pending registration state: {full}/{number}",
            field="status")
    await execute(request, c.FinalizeVersion(full_name=full, version=number))
    return await _version(request, model, number)


async def delete_version(request: web.Request) -> web.Response:
    await execute(request, c.DeleteVersion(full_name=request.match_info["full_name"],
                                           version=path_version(request)))
    return json_response({})


# --- aliases ----------------------------------------------------------------------------------


async def set_alias(request: web.Request) -> web.Response:
    body = await parse_body(request, AliasBody)
    full, alias = request.match_info["full_name"], request.match_info["alias"]
    await execute(request, c.SetAlias(full_name=full, alias=alias, version=body.version_num))
    model = await _model(request, full)
    return json_response({"alias_name": alias, "version_num": body.version_num,
                              "catalog_name": model.catalog_name,
                              "schema_name": model.schema_name, "model_name": model.name})


async def get_alias(request: web.Request) -> web.Response:
    model = await _model(request)
    alias = request.match_info["alias"]
    number = model.aliases.get(alias)
    if number is None:
        raise NotFound(f"Registered model alias not found: {model.full_name}@{alias}")
    return await _version(request, model, number)


async def delete_alias(request: web.Request) -> web.Response:
    await execute(request, c.DeleteAlias(full_name=request.match_info["full_name"],
                                         alias=request.match_info["alias"]))
    return json_response({})


async def temporary_credentials(request: web.Request) -> web.Response:
    """Credentials for one version's files: read, or read-write while it is still pending (which
    needs what registering it needs), scoped to that version's folder where the store allows."""
    body = await parse_body(request, CredentialsBody)
    full = f"{body.catalog_name}.{body.schema_name}.{body.model_name}"
    model = await _model(request, full)
    where = f"{full}/{body.version}"
    mv = await authorize.reader(request).version(model, body.version, missing=NotFound(
        f"Model version not found: {where}"))
    if not mv.storage_location:
        raise InvalidArgument(f"Model version {where} has no storage location of its own: its "
                              f"files stay at its source, {mv.source}", field="version")
    access = credentials.file_access(mv.status, body.operation, where)
    if access is Access.READ_WRITE:
        await authorize.access(request).require_to(Action.MODIFY, model.full_name)
    vended = await request.config_dict[CREDENTIALS].vend(
        mv.storage_location, access, request[PRINCIPAL].name)
    return json_response(vended.unity_catalog())


def create_app() -> web.Application:
    app = surface(uc_errors.response)
    permissions.add_routes(app, native=False)
    m, v = "/models/{full_name}", "/models/{full_name}/versions/{version}"
    app.router.add_routes([
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
        web.post("/models/versions", create_version),
        web.post("/models", create_model),
        web.get("/models", list_models),
        web.get(m, get_model),
        web.patch(m, update_model),
        web.delete(m, delete_model),
        web.get(f"{m}/versions", list_versions),
        web.get(v, get_version),
        web.patch(v, update_version),
        web.delete(v, delete_version),
        web.patch(f"{v}/finalize", finalize_version),
        web.put(f"{m}/aliases/{{alias}}", set_alias),
        web.get(f"{m}/aliases/{{alias}}", get_alias),
        web.delete(f"{m}/aliases/{{alias}}", delete_alias),
        web.post("/temporary-model-version-credentials", temporary_credentials),
    ])
    return app
