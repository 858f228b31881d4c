"""The native API's request bodies and query parameters, validated by pydantic."""

from pydantic import Field

from registry.http.validation import Body, Query


class VerifyQuery(Query):
    expect_head: str | None = None  # POSITION:HASH (or HASH) published by an earlier verify


class NoQuery(Query):
    """For routes without parameters: unknown ones (e.g. `as_of` on a write) are refused."""


class Page(Query):
    max_results: int = Field(100, ge=1, le=1000)
    page_token: str | None = None


class AsOf(Query):
    as_of: str | None = None


class VersionPage(Page):
    as_of: str | None = None


class ModelListQuery(Page):
    as_of: str | None = None
    catalog_name: str | None = None
    schema_name: str | None = None
    name_pattern: str | None = None


class CatalogListQuery(Page):
    as_of: str | None = None


class SchemaListQuery(Page):
    as_of: str | None = None
    catalog_name: str


class Force(Query):
    force: bool = False


class CreateCatalogBody(Body):
    name: str
    comment: str | None = None
    properties: dict[str, str] = {}


class NamespacePatchBody(Body):
    """A catalog's or schema's PATCH: what it sends changes, what it leaves out stays;
    `new_name` renames it (a schema within its catalog) and everything inside follows."""

    comment: str | None = None
    properties: dict[str, str] | None = None
    new_name: str | None = None


class CreateSchemaBody(Body):
    catalog_name: str
    name: str
    comment: str | None = None
    properties: dict[str, str] = {}


class CreateModelBody(Body):
    name: str  # catalog.schema.model
    description: str | None = None
    tags: dict[str, str] = {}


class UpdateModelBody(Body):
    description: str | None = None
    new_name: str | None = None


class TagBody(Body):
    value: str


class RegisterVersionBody(Body):
    source: str
    run_id: str | None = None
    run_link: str | None = None
    logged_model_id: str | None = None
    description: str | None = None
    tags: dict[str, str] = {}


class FinalizeBody(Body):
    status: str = "READY"
    status_message: str | None = None


class DescriptionBody(Body):
    description: str | None = None


class AliasBody(Body):
    version: int


class StageBody(Body):
    stage: str
    archive_existing_versions: bool = False


class TransitionRequestBody(Body):
    stage: str
    comment: str | None = None


class ApproveBody(Body):
    comment: str | None = None
    archive_existing_versions: bool = False


class CommentOnlyBody(Body):
    comment: str | None = None
