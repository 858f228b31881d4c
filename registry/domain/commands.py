"""Commands: what a caller asks for. Validated on construction; decided against state later."""

from typing import Annotated, Literal
from uuid import UUID, uuid4

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from registry.domain import names
from registry.domain.errors import InvalidArgument
from registry.domain.events import PrivilegeChange
from registry.domain.privileges import Securable, SecurableType


def _tags(tags: dict[str, str]) -> dict[str, str]:
    for key, value in tags.items():
        names.tag_key(key)
        names.tag_value(value)
    return tags


CatalogName = Annotated[str, AfterValidator(names.catalog_name)]
SchemaName = Annotated[str, AfterValidator(names.schema_name)]
ModelFullName = Annotated[str, AfterValidator(lambda v: str(names.FullName.parse(v)))]
AliasName = Annotated[str, AfterValidator(names.alias_name)]
TagKey = Annotated[str, AfterValidator(names.tag_key)]
TagValue = Annotated[str, AfterValidator(names.tag_value)]
Tags = Annotated[dict[str, str], AfterValidator(_tags)]
Properties = Tags  # a catalog's or schema's key-value properties: the same rules as tags
Text = Annotated[str | None, AfterValidator(names.comment)]
Version = Annotated[int, Field(ge=1)]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ModelCommand(Command):
    """A command on one registered model, addressed by its current full name."""

    full_name: ModelFullName


class VersionCommand(ModelCommand):
    version: Version


# --- catalogs and schemas -------------------------------------------------------------------


class CreateCatalog(Command):
    name: CatalogName
    comment: Text = None
    properties: Properties = {}
    catalog_id: UUID = Field(default_factory=uuid4)


class UpdateCatalog(Command):
    """Changes the fields it is given (`model_fields_set`); a field left out is left alone."""

    name: str
    comment: Text = None
    properties: Properties = {}


class RenameCatalog(Command):
    """Everything inside follows: each schema and model gets its own rename event
    (registry/domain/renames.py)."""

    name: str
    new_name: CatalogName


class DeleteCatalog(Command):
    name: str
    # With force, what is inside is deleted first, in the same transaction (domain/cascade.py).
    force: bool = False


class CreateSchema(Command):
    catalog_name: CatalogName
    name: SchemaName
    comment: Text = None
    properties: Properties = {}
    schema_id: UUID = Field(default_factory=uuid4)


class UpdateSchema(Command):
    """Changes the fields it is given (`model_fields_set`); a field left out is left alone."""

    catalog_name: str
    name: str
    comment: Text = None
    properties: Properties = {}


class RenameSchema(Command):
    """Within its catalog, as Unity Catalog renames; its models follow, each with its own
    rename event (registry/domain/renames.py)."""

    catalog_name: str
    name: str
    new_name: SchemaName


class DeleteSchema(Command):
    catalog_name: str
    name: str
    # With force, its models are deleted first, in the same transaction (domain/cascade.py).
    force: bool = False


# --- registered models ----------------------------------------------------------------------


class CreateModel(ModelCommand):
    description: Text = None
    tags: Tags = {}
    model_id: UUID = Field(default_factory=uuid4)


class RenameModel(ModelCommand):
    new_full_name: ModelFullName


class UpdateModelDescription(ModelCommand):
    description: Text = None


class SetModelTag(ModelCommand):
    key: TagKey
    value: TagValue


class DeleteModelTag(ModelCommand):
    key: str


class DeleteModel(ModelCommand):
    force: bool = False


# --- model versions -------------------------------------------------------------------------


class RegisterVersion(ModelCommand):
    source: str = Field(min_length=1, max_length=8192)
    run_id: str | None = Field(default=None, max_length=256)
    run_link: str | None = Field(default=None, max_length=8192)
    logged_model_id: str | None = Field(default=None, max_length=256)
    description: Text = None
    tags: Tags = {}
    # The server's storage root: the version's files go to <root>/models/<model id>/versions/<n>,
    # a folder of its own that no rename or re-used name can reach (None: the files stay at
    # `source`, as in MLflow).
    storage_root: str | None = Field(default=None, max_length=4096)
    # Where the files are when `source` is a reference resolved at registration: a copy of
    # another version (`models:/name/3`) uses that version's files, a logged model its own.
    files_at: str | None = Field(default=None, max_length=8192)
    # Registries that know of no upload step (MLflow's own) make versions READY at once.
    ready: bool = False


class FinalizeVersion(VersionCommand):
    status: Literal["READY", "FAILED_REGISTRATION"] = "READY"
    status_message: str | None = Field(default=None, max_length=8192)


class UpdateVersionDescription(VersionCommand):
    description: Text = None


class SetVersionTag(VersionCommand):
    key: TagKey
    value: TagValue


class DeleteVersionTag(VersionCommand):
    key: str


class DeleteVersion(VersionCommand):
    pass


def _stage(value: str) -> str:
    for stage in names.STAGES:
        if value.lower() == stage.lower():
            return stage
    raise InvalidArgument(f"invalid stage {value!r}: one of {', '.join(names.STAGES)}",
                          field="stage")


Stage = Annotated[str, AfterValidator(_stage)]


class TransitionStage(VersionCommand):
    """MLflow's classic stages: None, Staging, Production, Archived (any case on input)."""

    stage: Stage
    archive_existing_versions: bool = False


class TransitionRequestCommand(VersionCommand):
    """On the open request to move `version` to `stage` (at most one per version and stage)."""

    stage: Stage
    comment: Text = None


class RequestTransition(TransitionRequestCommand):
    pass


class ApproveTransition(TransitionRequestCommand):
    archive_existing_versions: bool = False


class RejectTransition(TransitionRequestCommand):
    pass


class CancelTransition(TransitionRequestCommand):
    pass


# --- aliases ---------------------------------------------------------------------------------


class SetAlias(ModelCommand):
    alias: AliasName
    version: Version


class DeleteAlias(ModelCommand):
    alias: str


# --- privileges ---------------------------------------------------------------------------------


class SecurableCommand(Command):
    securable_type: SecurableType
    full_name: str

    @property
    def securable(self) -> Securable:
        return Securable(self.securable_type, self.full_name)


class UpdatePermissions(SecurableCommand):
    """Unity Catalog's PATCH /permissions: per principal, privileges to add and to remove."""

    changes: list[PrivilegeChange]


class TransferOwnership(SecurableCommand):
    owner: str
